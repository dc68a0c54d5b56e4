"""All models, imported so Alembic and the app see one metadata (FAB's Model.metadata)."""
from flask_appbuilder import Model  # noqa: F401

from .activities import ActivityGrant, GrantDraft, GrantDraftPerson  # noqa: F401
from .attachments import Attachment  # noqa: F401
from .audit import (  # noqa: F401
                    AuditAllocation,
                    AuditCycle,
                    AuditDraw,
                    AuditDrawnPerson,
                    AuditExpert,
                    AuditFinalPerson,
                    AuditSampledInstitution,
                    AuditStandard,
)
from .audit_review import AuditAppeal, AuditCertificate, AuditResult, AuditVerdict  # noqa: F401
from .audit_units import AuditReply, AuditUnitCheck  # noqa: F401
from .credits import CompliancePolicy, ComplianceResult, Credit, CreditStandard, RuleSet  # noqa: F401
from .dictionaries import DictItem, DictType, Parameter  # noqa: F401
from .distance import DistanceProject, DistanceRecord, DistanceUpload  # noqa: F401
from .jobs import Job  # noqa: F401
from .logs import LoginLog, OperationLog  # noqa: F401
from .notices import Notice  # noqa: F401
from .org import INSTITUTION_LEVELS, INSTITUTION_TYPES, Org, OrgKind  # noqa: F401
from .people import Person  # noqa: F401
from .practice import PracticePlan, PracticePlanLog  # noqa: F401
from .projects import AttendanceUpload, CheckIn, Holiday, Project, ProjectCatalog, SwipeProblem, Topic  # noqa: F401
from .review import ManualCredit, ReviewLog  # noqa: F401
from .security import CaptchaTicket  # noqa: F401
from .selfstudy import SelfStudy, SelfStudyDelegation  # noqa: F401
from .submissions import FormSubmission  # noqa: F401
from .supervision import (  # noqa: F401
                    Feedback,
                    FeedbackPhoto,
                    Filing,
                    FilingLog,
                    FilingVenue,
                    Period,
                    SiteManager,
                    SmsCode,
                    SmsOutbox,
)
from .users import CmeUser  # noqa: F401

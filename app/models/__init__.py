"""All models, imported so Alembic and the app see one metadata (FAB's Model.metadata)."""
from flask_appbuilder import Model  # noqa: F401

from .org import Org, OrgKind, INSTITUTION_LEVELS, INSTITUTION_TYPES  # noqa: F401
from .people import Person  # noqa: F401
from .users import CmeUser  # noqa: F401
from .security import CaptchaTicket  # noqa: F401
from .dictionaries import DictType, DictItem, Parameter  # noqa: F401
from .logs import LoginLog, OperationLog  # noqa: F401
from .jobs import Job  # noqa: F401
from .notices import Notice  # noqa: F401
from .credits import RuleSet, CreditStandard, CompliancePolicy, Credit, ComplianceResult  # noqa: F401
from .attachments import Attachment  # noqa: F401
from .audit import (AuditCycle, AuditExpert, AuditStandard, AuditDraw, AuditSampledInstitution,  # noqa: F401
                    AuditDrawnPerson, AuditFinalPerson, AuditAllocation)
from .review import ReviewLog, ManualCredit  # noqa: F401
from .selfstudy import SelfStudy, SelfStudyDelegation  # noqa: F401
from .practice import PracticePlan, PracticePlanLog  # noqa: F401
from .activities import GrantDraft, GrantDraftPerson, ActivityGrant  # noqa: F401
from .audit_review import AuditVerdict, AuditResult, AuditAppeal, AuditCertificate  # noqa: F401
from .supervision import (Filing, FilingVenue, FilingLog, Period, SiteManager, SmsCode, SmsOutbox,  # noqa: F401
                          Feedback, FeedbackPhoto)
from .projects import ProjectCatalog, Project, Topic, AttendanceUpload, SwipeProblem, CheckIn, Holiday  # noqa: F401
from .submissions import FormSubmission  # noqa: F401

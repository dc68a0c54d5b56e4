"""Extensions created unbound and bound in create_app()."""
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = SQLA()
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()

"""Configuration as plain classes (Flask tutorial style).

development: SQLite file in instance/, jobs in-process.
testing:     database and Redis chosen by the test fixtures.
production:  everything from environment variables; refuses the default secret.
"""
import os

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
DEFAULT_SECRET = "dev-secret-change-me"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(BASE_DIR, "instance", "cme.db")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE = "cme"
    # Files written by jobs (error reports, exports) live here, never under static/.
    JOB_FILES_DIR = os.environ.get("JOB_FILES_DIR", os.path.join(BASE_DIR, "instance", "jobfiles"))
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    IMPORT_MAX_BYTES = 10 * 1024 * 1024
    # Excel exports of up to this many rows stream straight back; bigger ones run as a background
    # job with a progress bar and a download link (JOB-1): XlsxWriter writes ~3,000 rows/s here.
    EXPORT_INLINE_MAX = int(os.environ.get("EXPORT_INLINE_MAX", 20000))

    APP_NAME = "继续医学教育学分管理系统"
    APP_THEME = ""
    AUTH_TYPE = 1  # AUTH_DB
    AUTH_ROLE_ADMIN = "市继教办"
    AUTH_ROLE_PUBLIC = "Public"
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False  # permissions are synced by `flask cme init` after migrations
    FAB_SECURITY_MANAGER_CLASS = "app.security.CmeSecurityManager"
    FAB_INDEX_VIEW = "app.views.home.HomeView"
    FAB_API_SWAGGER_UI = True
    FAB_ADD_SECURITY_API = True
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_PASSWORD_COMPLEXITY_VALIDATOR = "app.services.passwords.validate_password"
    FAB_BASE_TEMPLATE = "cme_base.html"

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_FOLDER = "translations"
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "简体中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    # Account lock: N failed logins within M minutes lock the account for M minutes.
    LOGIN_LOCK_ATTEMPTS = 5
    LOGIN_LOCK_MINUTES = 10
    PASSWORD_MIN_LENGTH = 8
    PASSWORD_MIN_CLASSES = 3

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = None
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashes in tests only


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"

    @classmethod
    def check(cls) -> None:
        if cls.SECRET_KEY == DEFAULT_SECRET or not cls.SECRET_KEY:
            raise RuntimeError("生产环境必须通过环境变量 SECRET_KEY 设置密钥 (refusing default SECRET_KEY)")
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("生产环境必须设置 DATABASE_URL")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

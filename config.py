"""Configuration as plain classes (Flask tutorial style).

development: SQLite file in instance/, jobs in-process.
testing:     database and Redis chosen by the test fixtures.
production:  everything a site changes comes from environment variables (systemd reads them from
             /etc/cme/cme.env; README "Production" lists them in one table); refuses the default secret
             and, unless CME_ALLOW_DEV_SMS=1, the development SMS sender.
"""
import os
from typing import ClassVar

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
DEFAULT_SECRET = "dev-secret-change-me"
DEV_SMS_SENDER = "app.services.sms:DevSmsSender"


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in ("1", "true", "yes", "on")


def proxy_count() -> int:
    """TRUST_X_FORWARDED_FOR: how many reverse proxies (nginx = 1) stand in front of the app; their
    X-Forwarded-For/-Proto/-Host are trusted that many hops deep (ProxyFix). 0 or unset: none."""
    value = os.environ.get("TRUST_X_FORWARDED_FOR", "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return 0
    if value in ("true", "yes", "on"):
        return 1
    return int(value)


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(BASE_DIR, "instance", "cme.db")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "cme")
    # A pooled connection is tested before use: the first request after a database restart is
    # served, not a 500 (a dead socket is replaced by a new connection).
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    # Files written by jobs (error reports, exports) live here, never under static/.
    JOB_FILES_DIR = os.environ.get("JOB_FILES_DIR", os.path.join(BASE_DIR, "instance", "jobfiles"))
    # `flask cme backup` writes its archives here (None: instance/backups).
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or None
    # Evidence, photos and plans (None: JOB_FILES_DIR/attachments).
    ATTACHMENT_DIR = os.environ.get("ATTACHMENT_DIR") or None
    # Largest request body (uploads); nginx's client_max_body_size must be the same.
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024)
    IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
    # Excel exports of up to this many rows stream straight back; bigger ones run as a background
    # job with a progress bar and a download link (JOB-1): XlsxWriter writes ~3,000 rows/s here.
    EXPORT_INLINE_MAX = env_int("EXPORT_INLINE_MAX", 20000)
    # The address the public reaches the site at (QR codes, links in letters), e.g. https://cme.example.cn
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    TRUST_X_FORWARDED_FOR = proxy_count()
    # SMS of the site managers' phone login (app/services/sms.py): the development sender writes to the
    # log and the 短信发送记录 page; "app.services.sms:HttpSmsSender" posts to the gateway SMS_API_URL.
    SUP_SMS_SENDER = os.environ.get("SUP_SMS_SENDER", DEV_SMS_SENDER)
    SMS_API_URL = os.environ.get("SMS_API_URL", "")
    SMS_API_KEY = os.environ.get("SMS_API_KEY", "")
    SMS_API_SECRET = os.environ.get("SMS_API_SECRET", "")
    SMS_TEMPLATE_ID = os.environ.get("SMS_TEMPLATE_ID", "")
    SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "")
    SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)
    ALLOW_DEV_SMS = env_bool("CME_ALLOW_DEV_SMS")
    SUP_SMS_INTERVAL_SECONDS = env_int("SUP_SMS_INTERVAL_SECONDS", 60)  # between two codes to one phone
    SUP_PHOTO_MAX_BYTES = env_int("SUP_PHOTO_MAX_BYTES", 10 * 1024 * 1024)  # a site photo's largest size
    if os.environ.get("LOGIN_RATE_LIMIT"):  # else app/security.py's default (relaxed under TESTING)
        LOGIN_RATE_LIMIT = os.environ["LOGIN_RATE_LIMIT"]
    # /healthz and `flask cme check`: the files folder needs this much free space, the worker a heartbeat.
    HEALTH_MIN_FREE_MB = env_int("HEALTH_MIN_FREE_MB", 1024)
    # `flask cme worker` heartbeats every WORKER_TTL − 15 s while idle; /healthz calls a worker dead
    # WORKER_TTL + 30 s after its last heartbeat.
    WORKER_TTL = env_int("WORKER_TTL", 60)

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
    LANGUAGES: ClassVar[dict] = {
        "zh": {"flag": "cn", "name": "简体中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    # Account lock: N failed logins within M minutes lock the account for M minutes.
    LOGIN_LOCK_ATTEMPTS = env_int("LOGIN_LOCK_ATTEMPTS", 5)
    LOGIN_LOCK_MINUTES = env_int("LOGIN_LOCK_MINUTES", 10)
    PASSWORD_MIN_LENGTH = 8
    PASSWORD_MIN_CLASSES = 3

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = env_int("SESSION_LIFETIME_HOURS", 8) * 3600
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
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)

    @classmethod
    def check(cls) -> None:
        if cls.SECRET_KEY == DEFAULT_SECRET or not cls.SECRET_KEY or cls.SECRET_KEY.startswith("change-me"):
            raise RuntimeError("生产环境必须通过环境变量 SECRET_KEY 设置密钥 (refusing default SECRET_KEY)")
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("生产环境必须设置 DATABASE_URL")
        if cls.SUP_SMS_SENDER == DEV_SMS_SENDER and not cls.ALLOW_DEV_SMS:
            raise RuntimeError("生产环境不能使用开发用短信发送器：请设置 SUP_SMS_SENDER 与 SMS_API_URL 等短信网关参数，"
                               "或明确设置 CME_ALLOW_DEV_SMS=1 (refusing the development SMS sender in production)")
        if cls.SUP_SMS_SENDER.endswith(":HttpSmsSender"):
            missing = [k for k in ("SMS_API_URL", "SMS_API_KEY", "SMS_API_SECRET", "SMS_TEMPLATE_ID")
                       if not getattr(cls, k)]
            if missing:
                raise RuntimeError("短信网关参数不完整，缺少 " + "、".join(missing) + " (SMS gateway settings missing)")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

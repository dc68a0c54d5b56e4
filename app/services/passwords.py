"""Password rules (SYS-5): minimum length and character classes, message in Chinese."""
from flask import current_app
from flask_appbuilder.exceptions import PasswordComplexityValidationError


def check_password(password: str, min_length: int = 8, min_classes: int = 3) -> str | None:
    """Return a Chinese error message, or None when the password is acceptable."""
    password = password or ""
    classes = sum([
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ])
    if len(password) < min_length or classes < min_classes:
        return (f"密码至少{min_length}位，且须包含大写字母、小写字母、数字、特殊字符中的至少{min_classes}类")
    return None


def validate_password(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR hook."""
    cfg = current_app.config
    message = check_password(password, cfg["PASSWORD_MIN_LENGTH"], cfg["PASSWORD_MIN_CLASSES"])
    if message:
        raise PasswordComplexityValidationError(message)

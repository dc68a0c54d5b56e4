"""Password rules (SYS-5): minimum length, character classes, not a well-known password; message in Chinese."""
from flask import current_app
from flask_appbuilder.exceptions import PasswordComplexityValidationError

# Passwords that pass the length and class rules yet are the first ones a guesser tries (leaked-password
# top lists, keyboard walks, the product's own name and words) — compared ignoring case (issue 17.8).
COMMON_PASSWORDS = frozenset(p.lower() for p in ["Passw0rd", "Passw0rd!", "P@ssw0rd", "P@ssw0rd1", "P@ssword", "P@ssword1", "P@ssword123", "Password1", "Password1!", "Password123", "Password@123", "Password#123", "Password123!", "Pa$$w0rd", "Pa$$word1", "P@$$w0rd", "Admin123", "Admin@123", "Admin#123", "Admin123!", "Admin@1234", "Admin@2024", "Admin@2025", "Admin@2026", "Administrator1", "Abc@123", "Abc@1234", "Abc@12345", "Abc#1234", "Abc123456!", "Abcd@1234", "Abcd1234!", "Abcd@123", "Aa123456", "Aa123456!", "Aa@123456", "Aa111111", "Aa112233", "Qq123456", "Qq@123456", "Qwer1234", "Qwer@1234", "Qwer1234!", "Qwert@123", "Qwerty123", "Qwerty@123", "Qwerty123!", "Qwe123!@#", "Qaz@123456", "1qaz@WSX", "1qaz!QAZ", "1Qaz2wsx", "1qaz2wsx!", "Zaq12wsx", "Zaq1@wsx", "!QAZ2wsx", "1q2w3e4R", "1q2w3e4r!", "1Q2w3e4r", "1q2w3e4r5T", "Test@123", "Test@1234", "Test1234!", "Welcome1", "Welcome@1", "Welcome@123", "Welcome123!", "Root@123", "Root@1234", "Root123!", "Changeme1", "Changeme@1", "Iloveyou1", "Sunshine1", "Letmein1", "Monkey123!", "Dragon123!", "Football1", "Baseball1", "Master123!", "Huawei@123", "Huawei123", "Huawei@1234", "Hello@123", "Hello123!", "Beijing@123", "Beijing123", "Beijing@2025", "Beijing@2026", "China@123", "China123!", "Cme@2025", "Cme@2026", "Cme@123456", "Cme12345!", "Yiyuan@123", "Hospital1", "Hospital@1", "Doctor@123", "Welcome@2025", "Welcome@2026", "Spring@2025", "Summer@2025", "Autumn@2025", "Winter@2025", "Spring@2026", "Summer@2026", "Aa@12345", "Aa12345!", "A1234567!", "A123456!", "a123456A", "A12345678", "12345678Aa", "12345678Aa!", "123456Aa", "123456Aa!", "123456@Aa", "123qweASD", "123qwe!@#", "Asd123456", "Asdf1234", "Asdf@1234", "Asdf1234!", "Zxc@123456", "Zxcv1234", "Zxcv@1234", "Woaini1314", "Woaini@1314", "Woaini520!", "Aa5201314", "5201314Aa"])


def check_password(password: str, min_length: int = 8, min_classes: int = 3) -> str | None:
    """Return a Chinese error message, or None when the password is acceptable."""
    password = password or ""
    if password.lower() in COMMON_PASSWORDS:
        return "该密码过于常见，容易被猜中，请换一个不常见的密码"
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

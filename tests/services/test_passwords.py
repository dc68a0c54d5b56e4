"""Password rules (SYS-5): length and character classes."""
import pytest

from app.services.passwords import check_password


@pytest.mark.parametrize("password", ["Abcdefg1", "xyz#7391", "ABC#defg", "测试Ab1!xyz"])
def test_acceptable_passwords(password):
    assert check_password(password) is None


@pytest.mark.parametrize("password", ["", None, "Ab1!", "abcdefgh", "abcd1234", "ABCDEFGH", "12345678!"])
def test_refused_passwords_get_a_chinese_message(password):
    message = check_password(password)
    assert message and "密码至少8位" in message and "3类" in message


def test_length_and_classes_are_parameters():
    assert check_password("Abcdefg1", min_length=10) is not None
    assert check_password("abcdefghij", min_length=10, min_classes=1) is None
    assert check_password("abcdefgh1", min_classes=3) is not None
    assert "至少12位" in check_password("Ab1", min_length=12)


def test_validator_reads_config(app):
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    from app.services.passwords import validate_password

    with app.app_context():
        validate_password("Good#Pass1")
        with pytest.raises(PasswordComplexityValidationError, match="密码至少8位"):
            validate_password("weak")
        app.config["PASSWORD_MIN_LENGTH"] = 12
        try:
            with pytest.raises(PasswordComplexityValidationError, match="至少12位"):
                validate_password("Good#Pass1")
        finally:
            app.config["PASSWORD_MIN_LENGTH"] = 8

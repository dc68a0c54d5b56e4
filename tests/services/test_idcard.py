"""ID numbers (SYS-3): checksum of GB 11643, gender and birth date derived, masked display."""
import datetime

import pytest

from app.services import idcard


def test_valid_number_passes_and_derives_gender_and_birth():
    number = idcard.make("110101", datetime.date(1990, 3, 7), 123)
    assert idcard.validate(number.lower()) == number
    assert idcard.birth_date(number) == datetime.date(1990, 3, 7)
    assert idcard.gender(number) == "男"  # 17th digit 3 is odd
    assert idcard.gender(idcard.make("110101", datetime.date(1990, 3, 7), 124)) == "女"


def test_known_real_format_number():
    # GB 11643 example: 11010519491231002X
    assert idcard.validate("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("number, reason", [
    ("1101051949123100", "18位"),
    ("110105194912310021", "校验位"),
    ("11010519491331002X", "出生日期"),
    ("1101051949123100AX", "格式"),
])
def test_bad_numbers_are_refused_in_chinese(number, reason):
    with pytest.raises(idcard.IdNumberError) as exc:
        idcard.validate(number)
    assert reason in str(exc.value)


def test_mask_keeps_first_and_last_four():
    # SYS-3: "shown masked, e.g. 1101**********1234"
    assert idcard.mask("110101199003071234") == "1101**********1234"

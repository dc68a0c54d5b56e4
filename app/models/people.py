"""Personnel (学员 / 卫生技术人员), SYS-3."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import relationship

TITLE_LEVELS = ["初级", "中级", "副高", "正高"]



def mask_id_number(number: str | None) -> str:
    """`110101199003071234` → `1101**********1234` (services/idcard.mask)."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]

class Person(Model):
    __tablename__ = "person"
    __module_label__ = "人员管理"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id", "person": "id"}

    id = Column(Integer, primary_key=True)
    card_no = Column(String(32), nullable=False, unique=True)
    name = Column(String(64), nullable=False)
    name_initials = Column(String(32))  # pinyin initials for 快速查询 (zs → 张三)
    id_number = Column(String(18), nullable=False, unique=True)
    gender = Column(String(4))
    birth_date = Column(Date)
    district_id = Column(Integer, ForeignKey("org.id"))
    institution_id = Column(Integer, ForeignKey("org.id"), nullable=False)
    department_id = Column(Integer, ForeignKey("org.id"))
    title = Column(String(64))
    title_level = Column(String(8), index=True)
    specialty = Column(String(64), index=True)
    phone = Column(String(32))
    active = Column(Boolean, default=True, nullable=False)

    institution = relationship("Org", foreign_keys=[institution_id], lazy="joined")
    department = relationship("Org", foreign_keys=[department_id], lazy="joined")
    district = relationship("Org", foreign_keys=[district_id])

    __table_args__ = (
        Index("ix_person_inst_dept", "institution_id", "department_id"),
        # A scoped list is "WHERE <scope column> = x ORDER BY id LIMIT 20": one ordered index scan.
        Index("ix_person_district_scope", "district_id", "id"),
        Index("ix_person_institution_scope", "institution_id", "id"),
        Index("ix_person_department_scope", "department_id", "id"),
        # Pickers and imports look persons up by prefix (LIKE '张%'). On PostgreSQL a plain index
        # serves LIKE only under the C collation; the pattern operator class serves it under any
        # (and equality), so name, initials and card number get one each.
        Index("ix_person_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
        Index("ix_person_name_initials", "name_initials",
              postgresql_ops={"name_initials": "varchar_pattern_ops"}),
        Index("ix_person_card_no_prefix", "card_no", postgresql_ops={"card_no": "varchar_pattern_ops"}),
    )

    def __repr__(self) -> str:
        return f"{self.name}（{self.card_no}）"

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

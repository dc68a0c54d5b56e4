"""Organization tree: city → district → institution → department (SYS-2).

One table for all four kinds. Each row also carries the ids of its district, institution and
department ancestors (filled on flush) so that data scope is one indexed equality, never a
recursive query.
"""
import enum

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String
from sqlalchemy.orm import relationship


class OrgKind(str, enum.Enum):
    city = "city"
    district = "district"
    institution = "institution"
    department = "department"


ORG_KIND_LABELS = {
    "city": _l("市"),
    "district": _l("区"),
    "institution": _l("机构"),
    "department": _l("科室"),
}
# Which kind may sit under which.
PARENT_KIND = {"district": "city", "institution": "district", "department": "institution"}

# Unit levels of seed 001 (三级/二级/一级/社会办医); the dictionary "unit_level" holds their labels.
INSTITUTION_LEVELS = ["三级", "二级", "一级", "社会办医"]
INSTITUTION_TYPES = ["医院", "社区卫生服务中心", "疾病预防控制中心", "妇幼保健院", "专科防治所", "其他"]


class Org(Model):
    __tablename__ = "org"
    __module_label__ = "组织机构"
    __scope_columns__ = {"district": "district_id", "institution": "institution_id",
                         "department": "department_id"}

    id = Column(Integer, primary_key=True)
    parent_id = Column(Integer, ForeignKey("org.id"), index=True)
    kind = Column(String(16), nullable=False, index=True)
    name = Column(String(128), nullable=False, index=True)
    code = Column(String(32), unique=True)
    level = Column(String(16), index=True)  # institutions only
    inst_type = Column(String(32))  # institutions only
    address = Column(String(256))
    contact = Column(String(64))
    phone = Column(String(32))
    active = Column(Boolean, default=True, nullable=False)
    sort = Column(Integer, default=0)
    # Denormalised ancestors (self included where it is of that kind); set on flush.
    district_id = Column(Integer, index=True)
    institution_id = Column(Integer, index=True)
    department_id = Column(Integer, index=True)

    parent = relationship("Org", remote_side=[id], backref="children")

    __table_args__ = (Index("ix_org_kind_parent", "kind", "parent_id"),)

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def kind_label(self) -> str:
        return str(ORG_KIND_LABELS.get(self.kind, self.kind))

    def refresh_ancestors(self) -> None:
        """Recompute district/institution/department ids from the parent chain."""
        ids = {"district": None, "institution": None, "department": None}
        node = self
        while node is not None:
            if node.kind in ids and ids[node.kind] is None:
                ids[node.kind] = node.id
            node = node.parent
        self.district_id = ids["district"]
        self.institution_id = ids["institution"]
        self.department_id = ids["department"]


from sqlalchemy import event, update  # noqa: E402
from sqlalchemy.orm.attributes import set_committed_value  # noqa: E402


@event.listens_for(Org, "after_insert")
def _fill_ancestors(mapper, connection, target: Org) -> None:
    """Store ancestor ids once the row has its own id (scope is then one equality)."""
    target.refresh_ancestors()
    values = {k: getattr(target, k) for k in ("district_id", "institution_id", "department_id")}
    connection.execute(update(Org.__table__).where(Org.__table__.c.id == target.id).values(**values))
    for key, value in values.items():
        set_committed_value(target, key, value)

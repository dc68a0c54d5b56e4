"""Editable code lists (字典管理) and system parameters (参数设置), SYS-4."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship


class DictType(Model):
    __tablename__ = "dict_type"
    __module_label__ = "字典管理"

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True, nullable=False)
    name = Column(String(64), nullable=False)
    remark = Column(String(256))

    def __repr__(self) -> str:
        return self.name


class DictItem(Model):
    __tablename__ = "dict_item"
    __module_label__ = "字典管理"

    id = Column(Integer, primary_key=True)
    type_id = Column(Integer, ForeignKey("dict_type.id"), nullable=False, index=True)
    code = Column(String(32), nullable=False)
    label = Column(String(128), nullable=False, index=True)
    # Free attribute per type, e.g. the title level (初级/中级/副高/正高) of a title.
    extra = Column(String(64))
    pinyin = Column(String(64), index=True)
    sort = Column(Integer, default=0)
    active = Column(Boolean, default=True, nullable=False)

    dict_type = relationship("DictType", backref="items")

    __table_args__ = (UniqueConstraint("type_id", "code"),)

    def __repr__(self) -> str:
        return self.label


class Parameter(Model):
    __tablename__ = "parameter"
    __module_label__ = "参数设置"

    id = Column(Integer, primary_key=True)
    key = Column(String(64), unique=True, nullable=False)
    name = Column(String(128), nullable=False)
    value = Column(String(256), nullable=False)
    remark = Column(Text)

    def __repr__(self) -> str:
        return self.name

"""Idempotent forms: one row per submitted form token, written in the same transaction as the form's work.

A second submit with the same token (a double click, a resent POST) finds the row and gets the first
submit's result page and message instead of doing the work again (services/submissions.py).
"""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, Integer, String


class FormSubmission(Model):
    __tablename__ = "form_submission"
    __module_label__ = "表单提交"
    __no_oplog__ = True

    id = Column(Integer, primary_key=True)
    token = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, index=True)
    endpoint = Column(String(128))
    result_url = Column(String(512))  # where the first submit sent the user (its redirect)
    message = Column(String(512))  # what it told them (its flashed message)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False, index=True)

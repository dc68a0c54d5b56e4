"""Files and forms for the review-chain tests."""
import datetime
import io

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def pdf(name="证书.pdf", data=PDF):
    return (io.BytesIO(data), name)


def form(**over):
    data = {"content": "国家级心血管新进展学习班", "category": "国家级继续医学教育项目", "project_no": "2026-01-01-001",
            "certificate_no": "ZS2026001", "credits": "5", "hours": "15", "organizer": "中华医学会",
            "granted_on": datetime.date.today().isoformat()}
    data.update(over)
    return data

"""The admin's "Export the evidence pack" action, on releases and pilots.

It needs only the view permission: QA and assessors read everything, and the
pack writes nothing to the database. One subject at a time: the answer is one
downloadable JSON file (`audit.evidence`), checked later with
`manage.py verify_audit --evidence FILE`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from audit.evidence import build_pack, pack_filename, pack_json


def evidence_download(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, kind: str
) -> HttpResponse | None:
    if queryset.count() != 1:
        model_admin.message_user(request, "Select one to export its evidence pack.", messages.ERROR)
        return None
    subject = queryset.get()
    pack = build_pack(kind=kind, name=subject.name, actor=f"admin:{request.user.get_username()}")
    response = HttpResponse(pack_json(pack), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{pack_filename(pack)}"'
    return response

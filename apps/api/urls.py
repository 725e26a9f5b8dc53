"""Routes of /api/v1."""

from django.urls import path, re_path

from apps.api import audit, auth, files, meta, openapi, security, shares, views

OBJECT = r"(?P<object_name>[a-z][a-z0-9_]{0,62})"
RECORD = r"(?P<record_id>[^/]{1,64})"
FIELD = r"(?P<field_name>[A-Za-z_][A-Za-z0-9_]{0,62})"

urlpatterns = [
    path("auth/sign-in/email", auth.SignInEmailView.as_view()),
    path("auth/sign-out", auth.SignOutView.as_view()),
    path("auth/session", auth.SessionView.as_view()),
    path("meta/objects", meta.MetaObjectsView.as_view()),
    re_path(rf"^meta/objects/{OBJECT}$", meta.MetaObjectView.as_view()),
    path("openapi.json", openapi.OpenAPIView.as_view()),
    path("audit", audit.AuditEventsView.as_view()),
    path("security/explain", security.ExplainView.as_view()),
    re_path(rf"^data/{OBJECT}$", views.ObjectCollectionView.as_view()),
    re_path(rf"^data/{OBJECT}/query$", views.ObjectQueryView.as_view()),
    re_path(
        rf"^data/{OBJECT}/(?P<operation>createMany|updateMany|deleteMany|batch)$",
        views.ObjectBatchView.as_view(),
    ),
    re_path(rf"^data/{OBJECT}/(?P<record_id>[^/]{{1,64}})$", views.ObjectRecordView.as_view()),
    re_path(rf"^data/{OBJECT}/{RECORD}/shares$", shares.RecordSharesView.as_view()),
    re_path(
        rf"^data/{OBJECT}/{RECORD}/shares/(?P<share_id>[^/]{{1,32}})$",
        shares.RecordShareView.as_view(),
    ),
    re_path(rf"^data/{OBJECT}/{RECORD}/files/{FIELD}$", files.RecordFilesView.as_view()),
    re_path(
        rf"^data/{OBJECT}/{RECORD}/files/{FIELD}/(?P<file_ref>[^/]{{1,200}})$",
        files.RecordFileView.as_view(),
    ),
]

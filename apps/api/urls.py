"""Routes of /api/v1."""

from django.urls import path, re_path

from apps.api import (
    actions,
    artifacts,
    audit,
    auth,
    automation,
    files,
    jobs,
    kernel_info,
    meta,
    openapi,
    security,
    shares,
    transfers,
    views,
    webhooks,
)

OBJECT = r"(?P<object_name>[a-z][a-z0-9_]{0,62})"
RECORD = r"(?P<record_id>[^/]{1,64})"
FIELD = r"(?P<field_name>[A-Za-z_][A-Za-z0-9_]{0,62})"

# The data routes first: Django tries patterns in order, and they serve nearly every request.
urlpatterns = [
    re_path(rf"^data/{OBJECT}$", views.ObjectCollectionView.as_view()),
    re_path(rf"^data/{OBJECT}/query$", views.ObjectQueryView.as_view()),
    re_path(
        rf"^data/{OBJECT}/(?P<operation>createMany|updateMany|deleteMany|batch)$",
        views.ObjectBatchView.as_view(),
    ),
    re_path(rf"^data/{OBJECT}/export$", transfers.ExportView.as_view()),
    re_path(rf"^data/{OBJECT}/import$", transfers.ImportView.as_view()),
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
    path("auth/sign-in/email", auth.SignInEmailView.as_view()),
    path("auth/sign-out", auth.SignOutView.as_view()),
    path("auth/session", auth.SessionView.as_view()),
    path("meta/objects", meta.MetaObjectsView.as_view()),
    re_path(rf"^meta/objects/{OBJECT}$", meta.MetaObjectView.as_view()),
    path("meta/kernel", kernel_info.KernelInfoView.as_view()),
    path("openapi.json", openapi.OpenAPIView.as_view()),
    path("audit", audit.AuditEventsView.as_view()),
    path("security/explain", security.ExplainView.as_view()),
    re_path(r"^automation/runs$", automation.FlowRunsView.as_view()),
    re_path(r"^automation/runs/(?P<run_id>[0-9a-f]{1,32})$", automation.FlowRunView.as_view()),
    re_path(
        r"^automation/runs/(?P<run_id>[0-9a-f]{1,32})/resume$",
        automation.FlowRunResumeView.as_view(),
    ),
    re_path(
        r"^automation/runs/(?P<run_id>[0-9a-f]{1,32})/cancel$",
        automation.FlowRunCancelView.as_view(),
    ),
    re_path(
        r"^automation/(?P<flow_name>[A-Za-z][A-Za-z0-9_]{0,99})/trigger$",
        automation.TriggerFlowView.as_view(),
    ),
    path("notifications", automation.NotificationsView.as_view()),
    re_path(
        r"^notifications/(?P<notification_id>[0-9]{1,18})/read$",
        automation.NotificationReadView.as_view(),
    ),
    path("jobs", jobs.JobsView.as_view()),
    re_path(r"^jobs/(?P<job_id>[^/]{1,64})$", jobs.JobView.as_view()),
    re_path(r"^jobs/(?P<job_id>[^/]{1,64})/retry$", jobs.JobRetryView.as_view()),
    path("workers", jobs.WorkersView.as_view()),
    re_path(r"^exports/(?P<job_id>[^/]{1,64})$", transfers.ExportDownloadView.as_view()),
    path("artifacts", artifacts.ArtifactsView.as_view()),
    re_path(r"^artifacts/(?P<number>[0-9]{1,9})$", artifacts.ArtifactView.as_view()),
    re_path(r"^artifacts/(?P<number>[0-9]{1,9})/approve$", artifacts.ArtifactApproveView.as_view()),
    re_path(r"^artifacts/(?P<number>[0-9]{1,9})/reject$", artifacts.ArtifactRejectView.as_view()),
    re_path(
        r"^artifacts/(?P<number>[0-9]{1,9})/rollback$", artifacts.ArtifactRollbackView.as_view()
    ),
    path("webhooks/deliveries", webhooks.DeliveriesView.as_view()),
    re_path(
        r"^webhooks/deliveries/(?P<delivery_id>[0-9a-f]{32})/redeliver$",
        webhooks.RedeliverView.as_view(),
    ),
    path("actions", actions.GlobalActionsView.as_view()),
    re_path(r"^actions/(?P<name>[A-Za-z][A-Za-z0-9_]{0,62})$", actions.ActionsView.as_view()),
    re_path(
        rf"^actions/{OBJECT}/(?P<action_name>[A-Za-z][A-Za-z0-9_]{{0,62}})$",
        actions.ObjectActionView.as_view(),
    ),
    re_path(
        rf"^actions/{OBJECT}/(?P<action_name>[A-Za-z][A-Za-z0-9_]{{0,62}})/{RECORD}$",
        actions.ObjectActionView.as_view(),
    ),
]

"""Routes of the Console under CONSOLE_PATH_PREFIX (`/_console/`), on each project's hosts."""

from django.urls import path, re_path

from apps.console.views import actions, auth, dashboards, jobs, lists, platform, records

OBJECT = r"(?P<object_name>[a-z][a-z0-9_]{0,62})"
ACTION = r"(?P<action_name>[A-Za-z][A-Za-z0-9_]{0,99})"
RECORD = r"(?P<record_id>[A-Za-z0-9_-]{1,64})"

app_name = "console"
urlpatterns = [
    path("", records.index, name="index"),
    path("login/", auth.sign_in, name="login"),
    path("logout/", auth.sign_out, name="logout"),
    re_path(rf"^o/{OBJECT}/$", lists.object_list, name="list"),
    re_path(rf"^o/{OBJECT}/add/$", records.record_add, name="add"),
    re_path(rf"^o/{OBJECT}/add/visibility/$", records.form_visibility, name="add_visibility"),
    re_path(rf"^o/{OBJECT}/delete-selected/$", records.bulk_delete, name="bulk_delete"),
    re_path(rf"^o/{OBJECT}/autocomplete/$", records.autocomplete, name="autocomplete"),
    re_path(rf"^o/{OBJECT}/actions/{ACTION}/$", actions.run, name="action"),
    re_path(rf"^actions/{ACTION}/$", actions.run, name="global_action"),
    re_path(rf"^o/{OBJECT}/{RECORD}/$", records.record_change, name="change"),
    re_path(rf"^o/{OBJECT}/{RECORD}/delete/$", records.record_delete, name="delete"),
    re_path(rf"^o/{OBJECT}/{RECORD}/history/$", records.record_history, name="history"),
    re_path(rf"^o/{OBJECT}/{RECORD}/visibility/$", records.form_visibility, name="visibility"),
    re_path(
        r"^dashboards/(?P<name>[A-Za-z0-9_.-]{1,100})/$", dashboards.dashboard, name="dashboard"
    ),
    re_path(r"^pages/(?P<name>[A-Za-z0-9_.-]{1,100})/$", dashboards.artifact_page, name="page"),
    re_path(
        r"^reports/(?P<name>[A-Za-z0-9_.-]{1,100})/$",
        dashboards.artifact_page,
        {"kind": "report"},
        name="report",
    ),  # fmt: skip
    path("platform/artifact/", platform.upload, name="upload"),
    path("platform/versions/", platform.versions, name="versions"),
    path("platform/versions/<int:number>/", platform.version_detail, name="version"),
    path("platform/versions/<int:number>/decide/", platform.version_decide, name="decide"),
    path("platform/audit/", platform.audit_trail, name="audit"),
    path("platform/jobs/", jobs.job_list, name="jobs"),
    re_path(r"^platform/jobs/(?P<job_id>[A-Za-z0-9_-]{1,64})/$", jobs.job_detail, name="job"),
    re_path(
        r"^platform/jobs/(?P<job_id>[A-Za-z0-9_-]{1,64})/retry/$", jobs.job_retry, name="retry"
    ),
    path("platform/workers/", jobs.workers, name="workers"),
]

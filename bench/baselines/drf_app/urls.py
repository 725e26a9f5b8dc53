from rest_framework.routers import SimpleRouter

from drf_app.views import TaskViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/v1/data/app_task", TaskViewSet, basename="app_task")
urlpatterns = router.urls

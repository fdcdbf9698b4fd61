from django.contrib import admin
from django.urls import include, path

from backsoon.api import api
from backsoon.web.views import favicon, language_switch

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("language/", language_switch, name="language_switch"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("backsoon.accounts.urls")),
    path("", include("backsoon.network.urls")),
    path("", include("backsoon.messaging.urls")),
    path("", include("backsoon.notifications.urls")),
    path("", include("backsoon.away.urls")),
    path("", include("backsoon.posts.urls")),
    path("", include("backsoon.web.urls")),
]

# A full or read-only database answers 503; the API's errors are JSON (backsoon/web/errors.py).
handler404 = "backsoon.web.errors.page_not_found"
handler500 = "backsoon.web.errors.server_error"

from django.contrib.admin.apps import AdminConfig


class SourcierAdminConfig(AdminConfig):
    """Django's admin with Sourcier's site (config/admin_site.py) as `admin.site`."""

    default_site = "config.admin_site.SourcierAdminSite"

"""`{% prospect_result_list cl %}`: the admin's `result_list`, with rows from admin_rows."""

from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.template import Library

from prospects.admin_rows import result_rows

register = Library()


def prospect_result_list(cl):
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(admin_list.result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": result_rows(cl),
    }


@register.tag(name="prospect_result_list")
def prospect_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=prospect_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )

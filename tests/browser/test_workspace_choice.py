"""A member of two workspaces is asked where to work, and the header then says it."""

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.factories import MembershipFactory


def test_choosing_the_workspace_after_login(page, member, workspace, other_workspace):
    MembershipFactory(user=member, workspace=other_workspace)
    page.goto("/admin/login/")
    page.fill("#id_username", member.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/workspace/choose/**")
    expect(page.locator("h1")).to_have_text("Choisissez votre espace de travail")
    expect(page.locator("#current-workspace")).to_contain_text("Aucun espace de travail choisi")
    page.get_by_role("button", name="Concurrent Paris").click()
    page.wait_for_url("**/admin/")
    expect(page.locator("#current-workspace")).to_have_text("Espace de travail : Concurrent Paris")
    expect(page.locator("#workspace-select")).to_have_value(str(other_workspace.pk))

"""A manager opens an escalation case from the dashboard."""

from django.urls import reverse


def test_the_dashboard_offers_to_open_a_case_to_those_who_may(client, manager, dispatcher):
    client.force_login(manager)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert reverse("cases:create") in page
    assert client.get(reverse("cases:create")).status_code == 200


def test_the_case_button_is_absent_for_users_who_may_not_open_cases(client, dispatcher, monkeypatch):
    from escalations import access as cases

    monkeypatch.setattr(cases, "can_open_case", lambda user: False)
    client.force_login(dispatcher)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert reverse("cases:create") not in page

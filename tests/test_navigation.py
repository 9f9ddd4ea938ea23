"""The header's menu and breadcrumbs (core.web.navigation): grouped by section, at most
seven entries, the current page and section marked, the trail above the page."""

from core.plugin_api import NavItem
from core.web import navigation
from core.web.navigation import Entry


def _url(endpoint):
    return "/" + endpoint


ITEMS = [
    NavItem("Dossiers", "cases.case_list", order=10, section="Dossiers"),
    NavItem("Nouvelle fiche recueil", "cases.intake", order=11, section="Dossiers"),
    NavItem("Agenda", "appointments.agenda", order=30, section="Activité"),
    NavItem("Orientations", "referrals.index", order=40, section="Orientations"),
    NavItem("Accompagnement", "accompaniment.overview", order=40, section="Dossiers"),
    NavItem("Bilans", "reports.manager", order=80),
    NavItem("Extensions", "web.plugin_list", order=950, section="Administration"),
    NavItem("Sécurité du compte", "account.security", order=990, section="Mon compte"),
]
HOME = Entry("Tableau de bord", "/web.dashboard")


def test_sections_lead_to_their_first_page_in_menu_order():
    menu = navigation.build(ITEMS, "reports.manager", _url, home=HOME)
    assert [(e.label, e.url) for e in menu.top] == [
        ("Dossiers", "/cases.case_list"), ("Activité", "/appointments.agenda"),
        ("Orientations", "/referrals.index"), ("Bilans", "/reports.manager"),
        ("Administration", "/web.plugin_list")]
    assert [e.label for e in menu.top[0].children] == [
        "Dossiers", "Nouvelle fiche recueil", "Accompagnement"]
    # the account's entries go to the user's corner, not the menu
    assert [e.label for e in menu.account] == ["Sécurité du compte"]


def test_a_page_of_a_section_marks_its_section_and_gives_its_trail():
    # the case page belongs to the case list (longest shared endpoint prefix)
    menu = navigation.build(ITEMS, "cases.case_page", _url, home=HOME)
    assert menu.section.label == "Dossiers" and menu.section.current == "section"
    assert [c.current for c in menu.section.children] == ["section", "", ""]
    assert [(c.label, c.url) for c in menu.trail] == [
        ("Tableau de bord", "/web.dashboard"), ("Dossiers", "/cases.case_list")]


def test_the_page_itself_is_current_and_not_linked_in_the_trail():
    menu = navigation.build(ITEMS, "cases.intake", _url, home=HOME)
    assert [c.current for c in menu.section.children] == ["", "page", ""]
    assert [c.label for c in menu.trail] == ["Tableau de bord", "Dossiers"]
    listing = navigation.build(ITEMS, "cases.case_list", _url, home=HOME)
    assert [c.label for c in listing.trail] == ["Tableau de bord"]


def test_the_dashboard_belongs_to_no_section():
    home = Entry("Tableau de bord", "/web.dashboard", "page")
    menu = navigation.build(ITEMS, "web.dashboard", _url, home=home)
    assert menu.section is None and not any(e.current for e in menu.top)


def test_at_most_seven_entries_the_rest_under_plus():
    many = [NavItem(f"Page {i}", f"p{i}.index", order=i) for i in range(10)]
    menu = navigation.build(many, "p8.index", _url)
    assert len(menu.top) == navigation.MAX_TOP_LEVEL
    more = menu.top[-1]
    assert more.label == "Plus" and [c.label for c in more.children] == [
        "Page 6", "Page 7", "Page 8", "Page 9"]
    assert menu.section is more and more.current == "section"


def test_pages_show_the_grouped_menu_and_breadcrumbs(client, users, login, tenant):
    login(client, users["manager"])
    html = client.get(f"/t/{tenant.slug}/cases/").get_data(as_text=True)
    assert 'aria-label="Navigation principale"' in html
    assert 'class="sub-nav" aria-label="Dossiers"' in html
    assert 'aria-label="Fil d’Ariane"' in html

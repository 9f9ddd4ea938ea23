"""Hooks the lender plugin declares for other plugins (``ccas_hookspecs``): the hook
reference lists them under « credit_municipal »."""

from __future__ import annotations

from core.plugin_api import decorating, hookspec


@decorating
@hookspec(firstresult=True)
def ccas_ficp_check(person, case, tenant, session):
    """Automated FICP connector: consult the Banque de France register for ``person``.

    Asked when a case enters ``ficp_pending``. No connector ships with the product: the
    lender's agents record the result by hand from the FICP queue. A connector plugin
    returns ``"clear"`` or ``"registered"``, recorded like an agent's answer; ``None``
    leaves the check to the queue. A connector that raises is logged with its name and
    skipped (the check stays with the agents).

    Call mode: first result.

    :param person: the ``Person`` to check.
    :param case: the ``Case`` the check is for.
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: ``"clear"``, ``"registered"`` or ``None``.

    Example::

        @hookimpl
        def ccas_ficp_check(person):
            return my_bank_api.ficp(person.last_name, person.first_name, person.birth_date)
    """

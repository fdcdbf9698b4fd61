"""Calendar import and export of absences, split by concern.

- ``models``: settings, feed subscriptions, imported events (tables of the ``away`` app).
- ``parse`` and ``expand``: reading an .ics file and expanding its recurring events
  within bounds (pure).
- ``plan``: which absences to create, move or delete for the imported events (pure).
- ``preferences``: keywords and the defaults of imported absences.
- ``sync``: importing events (an upload or a feed) and reconciling absences.
- ``fetch``: which feed addresses we connect to, and a download with one deadline.
- ``feeds``: subscriptions, claims and the background sync.
- ``export``: the private ICS feed of a member's absences.
- ``api``, ``views``, ``forms``: the HTTP faces.

This file imports nothing, so ``away/models.py`` can import ``calendar.models``
without a cycle.
"""

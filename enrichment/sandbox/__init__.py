"""The sandbox world: every provider's documented API, offline, with faults on demand.

`World.build(seed, size)` makes the data; `SandboxServer(world).start()` (or
`start_sandbox(seed, size)`) serves every vendor on one loopback port, each under `/<slug>/`,
with `/_sandbox/` for stats, the call record and faults. `python manage.py run_sandbox` runs it.

Each vendor knows its own share of the world (`coverage.py`; Dropcontact knows everyone), and a
few of its addresses are stale or wrong. Among what a vendor knows, outcomes follow the world:
a verified address is found, a catch-all one is found but flagged, a departed mailbox or a
domain without MX gives nothing, and a person who objected is never handed out (Dropcontact
flags them Ne_Pas_Contacter, Hunter answers 451, the others have no match). `truth.py` writes
what each email finder answers into the exported ground truth.
"""

"""The change history of every object: written with each change, read back three ways.

- :mod:`.recording` writes one record per create, update, delete, variables or labels
  change, in the transaction of the change itself.
- :mod:`.feed` reads records back: one object's history, the project's change feed,
  and pruning past the retention window.
- :mod:`.replay` replays records to answer "what were the variables at time T" and
  "what changed between T1 and T2".
- :mod:`.blame` says where each resolved value comes from, and when and by whom it was set.
"""

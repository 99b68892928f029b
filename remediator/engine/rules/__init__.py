"""The one rule language of every policy. Pure: no Django, no I/O.

- ``criteria.py``: the conditions a policy sets on findings (``Criteria``), the facts
  they are tested on (``FindingFacts``) and the one matcher (``criteria_match``);
- ``remediation.py``: remediation policies decide an action per finding and plan at
  most one action per tag and kind;
- ``admission.py``: admission policies answer for the images of a pod;
- ``replay.py``: what remediation policies would have done over past scans (backtest).
"""

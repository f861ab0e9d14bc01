"""Policy findings in the declaration's terms: where in the YAML a violation belongs, what the
YAML author changes to fix it, and which of the pack's rules can be judged from the declaration
alone (`validate --policy-config`).

    fields.py        policy name -> the declaration field that causes it, and the YAML fix (pure)
    declared.py      the pack's rules run on resources built from the declaration as the components build them
"""

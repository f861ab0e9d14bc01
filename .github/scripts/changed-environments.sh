#!/usr/bin/env bash
# Which environments a pull request's preview covers.
#
#   .github/scripts/changed-environments.sh BASE      (BASE: a git revision, e.g. origin/main)
#
# Compares HEAD with its merge base with BASE (what the pull request changes):
#   - environments/<env>.yaml, Pulumi.<env>.yaml or policies/config/<env>.json changed -> that environment;
#   - code, the rest of policies/, the schema, the project or this workflow changed -> every environment;
#   - anything else (docs, tests) -> nothing.
# A deleted declaration is previewed too: `secrets-layout preview` of a path that exists only at
# --base shows its deletion (everything deleted, protected resources blocked).
# Prints `environments=<JSON list>` and `any=true|false`, and appends both to $GITHUB_OUTPUT in Actions.
set -euo pipefail

base=${1:?usage: changed-environments.sh BASE (a git revision such as origin/main)}
env_name='^[a-z0-9][a-z0-9-]*$'

every_environment=""
declare -A selected=()

select_environment() { # NAME WHY
    if [[ $1 =~ $env_name ]]; then
        selected[$1]=1
    else
        echo "::warning::$2: '$1' is not an environment name (lowercase letters, digits, '-'); not previewed" >&2
    fi
}

while IFS= read -r -d '' path; do
    case $path in
        policies/config/*/*) every_environment=${every_environment:-$path} ;;
        policies/config/*.json)
            name=${path#policies/config/}
            select_environment "${name%.json}" "$path"
            ;;
        environments/schema.json | policies/* | components/* | secrets_layout/* | rotation/* | \
            __main__.py | Pulumi.yaml | pyproject.toml | requirements.txt | \
            .github/workflows/secrets-preview.yml | .github/scripts/*)
            every_environment=${every_environment:-$path}
            ;;
        environments/*/*) ;;
        environments/*.yaml | environments/*.yml)
            name=${path#environments/}
            select_environment "${name%.*}" "$path"
            ;;
        Pulumi.*.yaml)
            name=${path#Pulumi.}
            select_environment "${name%.yaml}" "$path"
            ;;
    esac
done < <(git diff --name-only -z --no-renames "$base...HEAD" --)

if [[ -n $every_environment ]]; then
    echo "$every_environment changed: previewing every environment" >&2
    for declaration in environments/*.yaml environments/*.yml; do
        [[ -f $declaration ]] || continue
        name=${declaration#environments/}
        select_environment "${name%.*}" "$declaration"
    done
fi

environments=()
for name in $(printf '%s\n' "${!selected[@]}" | sort); do
    if [[ -f environments/$name.yaml ]]; then
        environments+=("$name")
    elif [[ -f environments/$name.yml ]]; then
        echo "::warning::environments/$name.yml: the preview reads environments/$name.yaml; rename the file" >&2
    elif git cat-file -e "$base:environments/$name.yaml" 2>/dev/null; then
        # The preview runs with --base "$base": the declaration must be there to preview its deletion.
        echo "::notice::environments/$name.yaml is deleted by this pull request: previewing its deletion" >&2
        environments+=("$name")
    else
        echo "::notice::environments/$name.yaml is in neither this pull request nor its base: nothing to preview" >&2
    fi
done

json="["
for name in "${environments[@]}"; do
    json+="\"$name\","
done
json="${json%,}]"
any=$([[ ${#environments[@]} -gt 0 ]] && echo true || echo false)

if [[ $any == false ]]; then
    echo "no environment is affected by this change" >&2
fi
printf 'environments=%s\nany=%s\n' "$json" "$any" | tee -a "${GITHUB_OUTPUT:-/dev/null}"

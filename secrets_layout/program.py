"""The Pulumi program: stack config -> declaration -> layout -> exports.

`pulumi up --stack <env>` runs the repository's __main__.py, which calls `main`; `secrets-layout
preview` runs this file (as `__main__`, as the language host runs a program) when the declaration's
repository has no program of its own, so the preview works from an installed wheel too.

The declaration is the stack config `secrets-layout:declaration`, by default
(loader.default_declaration) the file or environment folder of the environment `pulumi new` asked for
(`secrets-layout:environment`), else the stack's.
"""

import pulumi

from secrets_layout.components import SecretsLayout, SecretsLayoutArgs
from secrets_layout.declaration.loader import default_declaration, load_declaration
from secrets_layout.errors import DeclarationError


def main() -> None:
    config = pulumi.Config("secrets-layout")
    path = config.get("declaration") or default_declaration(config.get("environment") or pulumi.get_stack())
    try:
        declaration = load_declaration(path).declaration
    except DeclarationError as error:  # one FILE:LINE:COLUMN: PATH: MESSAGE line per issue, no traceback
        raise pulumi.RunError(str(error)) from None
    except OSError as error:  # a stack made by `pulumi new` has its answers but no declaration yet
        problem = getattr(error, "problem", error.strerror)
        raise pulumi.RunError(f"{path}: cannot read the declaration: {problem}; write it with "
                              f"`secrets-layout init --stack {pulumi.get_stack()}`") from None

    layout = SecretsLayout(declaration.environment, SecretsLayoutArgs(declaration=declaration))
    for output_name, value in layout.stack_outputs.items():
        pulumi.export(output_name, value)


if __name__ == "__main__":
    main()

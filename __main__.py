"""`pulumi up --stack <env>`: deploy one declaration's layout into the security account.

The declaration is the stack config `secrets-layout:declaration`: a file or an environment folder
(default environments/<stack>.yaml, or the folder environments/<stack>/ when there is no such file).
"""

import pulumi

from components import SecretsLayout, SecretsLayoutArgs
from secrets_layout.errors import DeclarationError
from secrets_layout.declaration.folder import default_declaration
from secrets_layout.loader import load_declaration

path = pulumi.Config("secrets-layout").get("declaration") or default_declaration(pulumi.get_stack())
try:
    declaration = load_declaration(path).declaration
except DeclarationError as error:  # one FILE:LINE:COLUMN: PATH: MESSAGE line per issue, no traceback
    raise pulumi.RunError(str(error)) from None
except OSError as error:
    raise pulumi.RunError(f"{path}: cannot read the declaration: {error.strerror}") from None

layout = SecretsLayout(declaration.environment, SecretsLayoutArgs(declaration=declaration))
for output_name, value in layout.stack_outputs.items():
    pulumi.export(output_name, value)

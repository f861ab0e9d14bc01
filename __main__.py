"""`pulumi up --stack <env>`: deploy one declaration's layout into the security account.

The program is secrets_layout/program.py (shipped in the wheel, so `secrets-layout preview` runs the
same program from an install); the declaration is the stack config `secrets-layout:declaration`
(default: the file or environment folder of the environment `pulumi new` asked for, else the stack's).
"""

from secrets_layout.program import main

main()

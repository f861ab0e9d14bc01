"""generated-credential-strength: passwords a stack generates are long enough, of every required class,
and leave out few characters.

What generates a credential, and where its settings are:

- pulumi-random's ``RandomPassword``: ``length``; ``lower``, ``upper``, ``numeric`` (and the deprecated
  ``number``), ``special`` (each true unless set false); ``overrideSpecial`` narrows the special
  characters to its own, so the characters of pulumi-random's default set it leaves out are excluded
  (terraform-provider-random, ``random_password``: ``override_special`` "Supply your own list of special
  characters to use for string generation. This overrides the default character list in the special
  argument").
- AWS's rotation applications (Serverless Application Repository, deployed as
  ``aws:serverlessrepository/cloudFormationStack:CloudFormationStack``): their functions call
  ``GetRandomPassword`` with the ``excludeCharacters`` parameter; its other arguments keep their defaults,
  32 characters of every class (Secrets Manager API reference, GetRandomPassword; aws-samples/
  aws-secrets-manager-rotation-lambdas, ``create_secret``). A ``passwordLength`` parameter, where an
  application takes one, is read too.
- aws-native's Secret ``generateSecretString`` (CloudFormation's GenerateSecretString: ``passwordLength``
  default 32, ``excludeCharacters``, ``excludeLowercase``/``Uppercase``/``Numbers``/``Punctuation``) and its
  RotationSchedule's ``hostedRotationLambda.excludeCharacters``.

Defaults of the config come from AWS's rotation templates and GetRandomPassword: at least 32 characters,
every class (lowercase, uppercase, digits, punctuation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from ..definition import MANDATORY, PolicyDefinition
from ..findings import CannotCheck, Finding
from ..resources import NATIVE_ROTATION_SCHEDULE, NATIVE_SECRET, Resource, input_label, is_unknown, whole_number

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
ROTATION_APPLICATION = "aws:serverlessrepository/cloudFormationStack:CloudFormationStack"

CLASSES = ("lowercase", "uppercase", "digits", "punctuation")
DEFAULT_MINIMUM_LENGTH = 32
DEFAULT_MAXIMUM_EXCLUDED = 10
RANDOM_DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
"""pulumi-random's special characters when ``overrideSpecial`` is not given (terraform-provider-random
internal/provider/string.go, ``specialChars``)."""
AWS_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
"""The punctuation GetRandomPassword draws from (Secrets Manager API reference, GetRandomPassword)."""
AWS_ROTATION_APPLICATIONS = "arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
"""Where AWS publishes its rotation applications (components/rotation.py names them)."""


@dataclass(frozen=True)
class Generator:
    """What a resource generates: its length, its classes and its excluded characters, with the inputs
    that set each (field paths for the finding)."""

    length: Any
    length_path: Tuple[Any, ...]
    classes: Dict[str, Any]
    """class -> whether it is included (True, False or unknown), from the input that says so."""
    class_paths: Dict[str, Tuple[Any, ...]]
    excluded: Any
    """The excluded characters (a string), or unknown."""
    excluded_path: Tuple[Any, ...]


def _random_password(props: Mapping[str, Any]) -> Generator:
    numeric = props.get("numeric", props.get("number", True))
    special = props.get("special", True)
    override = props.get("overrideSpecial")
    if is_unknown(override):
        excluded: Any = override
    elif isinstance(override, str) and override:
        excluded = "".join(c for c in RANDOM_DEFAULT_SPECIAL if c not in override)
    elif isinstance(override, str):
        special, excluded = False, ""  # no special character at all: the missing class says it
    else:
        excluded = ""
    return Generator(
        props.get("length"), ("length",),
        {"lowercase": props.get("lower", True), "uppercase": props.get("upper", True), "digits": numeric,
         "punctuation": special},
        {"lowercase": ("lower",), "uppercase": ("upper",), "digits": ("numeric",), "punctuation": ("special",)},
        excluded, ("overrideSpecial",))


def _not(value: Any) -> Any:
    """An exclude switch as an include: unknown stays unknown."""
    return value if is_unknown(value) else value is not True


def _get_random_password(settings: Mapping[str, Any], path: Tuple[Any, ...], names: Mapping[str, str]) -> Generator:
    """GetRandomPassword's arguments, as a CloudFormation GenerateSecretString or a rotation application's
    parameters name them (``names``: argument -> the input's name)."""
    def at(argument: str) -> Tuple[Any, ...]:
        return (*path, names[argument])

    length = settings.get(names["length"], DEFAULT_MINIMUM_LENGTH)
    classes = {cls: _not(settings.get(names[cls])) if names.get(cls) else True for cls in CLASSES}
    class_paths = {cls: at(cls) if names.get(cls) else path for cls in CLASSES}
    return Generator(length, at("length"), classes, class_paths, settings.get(names["excluded"], "") or "",
                     at("excluded"))


_GENERATE_SECRET_STRING = {"length": "passwordLength", "excluded": "excludeCharacters",
                           "lowercase": "excludeLowercase", "uppercase": "excludeUppercase",
                           "digits": "excludeNumbers", "punctuation": "excludePunctuation"}
_APPLICATION_PARAMETERS = {"length": "passwordLength", "excluded": "excludeCharacters"}


def generators(resource: Resource) -> List[Generator]:
    """What the resource generates (nothing for most resources)."""
    props = resource.props
    if resource.type == RANDOM_PASSWORD:
        return [_random_password(props)]
    if resource.type == ROTATION_APPLICATION:
        application = props.get("applicationId")
        parameters = props.get("parameters")
        if not (isinstance(application, str) and application.startswith(AWS_ROTATION_APPLICATIONS)):
            return []  # not one of AWS's rotation applications
        if is_unknown(parameters):
            raise CannotCheck("the rotation application's parameters are computed from another resource's output")
        return [_get_random_password(parameters or {}, ("parameters",), _APPLICATION_PARAMETERS)]
    if resource.type == NATIVE_SECRET:
        generate = props.get("generateSecretString")
        if generate is None:
            return []
        if is_unknown(generate):
            raise CannotCheck("generate_secret_string is computed from another resource's output")
        return [_get_random_password(generate, ("generateSecretString",), _GENERATE_SECRET_STRING)]
    if resource.type == NATIVE_ROTATION_SCHEDULE:
        hosted = props.get("hostedRotationLambda")
        if not isinstance(hosted, Mapping):
            return []
        return [_get_random_password(hosted, ("hostedRotationLambda",), _APPLICATION_PARAMETERS)]
    return []


def _label(path: Sequence[Any]) -> str:
    return input_label(tuple(path))


def _judge(generator: Generator, minimum: int, required: Sequence[str], most_excluded: int) -> List[Finding]:
    findings = []
    why = ("A short password, or one drawn from fewer characters, is found by guessing sooner; AWS's own rotation "
           "functions generate 32 characters of every class.")
    length = generator.length
    if is_unknown(length):
        raise CannotCheck(f"{_label(generator.length_path)} is computed from another resource's output")
    # A rotation application's parameters are CloudFormation parameter values: text.
    whole = int(length) if isinstance(length, str) and length.isdigit() else whole_number(length)
    if whole is not None and whole < minimum:
        findings.append(Finding(generator.length_path, f"{_label(generator.length_path)} is {whole}, shorter than "
                                                       f"the minimum of {minimum} characters.", why,
                                f"Set {_label(generator.length_path)} to {minimum} or more."))
    for cls in required:
        included = generator.classes.get(cls, True)
        if is_unknown(included):
            raise CannotCheck(f"whether {cls} characters are included is computed from another resource's output")
        if included is False:
            path = generator.class_paths[cls]
            findings.append(Finding(path, f"The generated password leaves out {cls} characters ({_label(path)}), "
                                          f"one of the required classes ({', '.join(required)}).", why,
                                    f"Include {cls} characters: remove that setting."))
    excluded = generator.excluded
    if is_unknown(excluded):
        raise CannotCheck(f"{_label(generator.excluded_path)} is computed from another resource's output")
    count = len(set(excluded)) if isinstance(excluded, str) else 0
    if count > most_excluded:
        findings.append(Finding(generator.excluded_path,
                                f"{_label(generator.excluded_path)} leaves out {count} characters, more than the "
                                f"{most_excluded} allowed.", why,
                                "Exclude only the characters the system that uses the password rejects."))
    return findings


def check_credential_strength(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    minimum = whole_number(config.get("minimumLength", DEFAULT_MINIMUM_LENGTH)) or DEFAULT_MINIMUM_LENGTH
    required = config.get("requiredClasses", list(CLASSES))
    most_excluded = whole_number(config.get("maximumExcludedCharacters", DEFAULT_MAXIMUM_EXCLUDED))
    most_excluded = DEFAULT_MAXIMUM_EXCLUDED if most_excluded is None else most_excluded
    return [finding for generator in generators(resource)
            for finding in _judge(generator, minimum, required, most_excluded)]


GENERATED_CREDENTIAL_STRENGTH = PolicyDefinition(
    name="generated-credential-strength",
    description="Generated passwords (random passwords, AWS's rotation applications, aws-native generated secret "
                "strings) have at least minimumLength characters of every required class and leave out at most "
                "maximumExcludedCharacters characters.",
    level=MANDATORY,
    resource_types=(RANDOM_PASSWORD, ROTATION_APPLICATION, NATIVE_SECRET, NATIVE_ROTATION_SCHEDULE),
    check=check_credential_strength,
    config={
        "minimumLength": {"type": "integer", "minimum": 8, "maximum": 4096, "default": DEFAULT_MINIMUM_LENGTH,
                          "description": "Shortest generated password accepted, in characters."},
        "requiredClasses": {"type": "array", "items": {"type": "string", "enum": list(CLASSES)}, "uniqueItems": True,
                            "default": list(CLASSES),
                            "description": "Character classes every generated password must include."},
        "maximumExcludedCharacters": {"type": "integer", "minimum": 0, "maximum": 94,
                                      "default": DEFAULT_MAXIMUM_EXCLUDED,
                                      "description": "Most characters a generator may leave out of its alphabet."},
    })

"""Username rules: ASCII only, so no look-alike, zero-width or bidi tricks."""

from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.validators import MaxLengthValidator

username_validators = [ASCIIUsernameValidator(), MaxLengthValidator(30)]

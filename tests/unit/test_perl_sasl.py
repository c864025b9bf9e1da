"""contrib/perl: the XOAUTH2 and OAUTHBEARER mechanisms for Authen::SASL::Perl, run by perl.

Each case runs the real perl with PERL5LIB=contrib/perl and the system's Authen::SASL, and
compares the mechanism's output with byte vectors written from the specifications.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from oauth_helper import sasl

ROOT = Path(__file__).resolve().parents[2]
PERL_LIB = ROOT / "contrib" / "perl"

# Reads a JSON job on stdin, drives Authen::SASL the way Net::SMTP does, and prints JSON with
# every byte string hex-encoded.
DRIVER = r"""
use strict;
use warnings;
use JSON::PP ();
use Authen::SASL qw(Perl);

my $job = JSON::PP->new->decode(do { local $/; <STDIN> });
my %cb = %{ $job->{callback} };
if (exists $cb{wide_user}) { $cb{user} = delete $cb{wide_user}; }  # decoded: a character string
my $sasl = Authen::SASL->new(mechanism => $job->{mechanism}, callback => \%cb);
my %out;
my $client = eval { $sasl->client_new('smtp', $job->{host}, $job->{secflags} // 0) };
if (!$client) {
  ($out{died} = $@) =~ s/\s+\z//;
} else {
  $out{class}     = ref $client;
  $out{mechanism} = $client->mechanism;
  my $start = $client->client_start;
  $out{start}     = defined $start ? unpack('H*', $start) : undef;
  $out{error}     = $client->error;
  $out{need_step} = $client->need_step ? 1 : 0;
  if (defined $job->{challenge}) {
    my $step = $client->client_step($job->{challenge});
    $out{step}       = defined $step ? unpack('H*', $step) : undef;
    $out{step_error} = $client->error;
  }
}
print JSON::PP->new->canonical->encode(\%out);
"""


def drive(job: dict[str, object], *, lib: Path | None = PERL_LIB) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERL")}
    if lib is not None:
        env["PERL5LIB"] = str(lib)
    done = subprocess.run(
        ["perl", "-e", DRIVER],
        input=json.dumps(job).encode(),
        capture_output=True,
        env=env,
        timeout=30,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def unhex(value: object) -> bytes:
    assert isinstance(value, str)
    return bytes.fromhex(value)


USER = "someuser@example.com"
TOKEN = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"


def test_xoauth2_initial_response_matches_the_documented_vector() -> None:
    got = drive(
        {
            "mechanism": "XOAUTH2",
            "host": "smtp.gmail.com",
            "callback": {"user": USER, "pass": TOKEN},
        }
    )
    assert got["class"] == "Authen::SASL::Perl::XOAUTH2"
    assert got["mechanism"] == "XOAUTH2"
    assert (
        unhex(got["start"])
        == b"user=someuser@example.com\x01auth=Bearer " + TOKEN.encode() + b"\x01\x01"
    )
    # Google's published example, and the Python encoder of this project, agree byte for byte.
    assert base64.b64encode(unhex(got["start"])).decode() == sasl.xoauth2(USER, TOKEN)
    assert base64.b64encode(unhex(got["start"])).decode() == (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )
    assert got["error"] is None


def test_xoauth2_error_challenge_gets_an_empty_response() -> None:
    challenge = '{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'
    got = drive(
        {
            "mechanism": "XOAUTH2",
            "host": "smtp.gmail.com",
            "callback": {"user": USER, "pass": TOKEN},
            "challenge": challenge,
        }
    )
    assert got["step"] == ""
    assert got["step_error"] == f"XOAUTH2 token rejected by the server: {challenge}"


def test_oauthbearer_initial_response_rfc7628_vector() -> None:
    # RFC 7628 section 4.1, with the port supplied by a callback.
    token = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="
    got = drive(
        {
            "mechanism": "OAUTHBEARER",
            "host": "server.example.com",
            "callback": {"user": "user@example.com", "pass": token, "port": 143},
        }
    )
    assert got["class"] == "Authen::SASL::Perl::OAUTHBEARER"
    expected = (
        b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer "
        + token.encode()
        + b"\x01\x01"
    )
    assert unhex(got["start"]) == expected
    assert base64.b64encode(expected).decode() == sasl.oauthbearer(
        "user@example.com", token, "server.example.com", 143
    )


def test_oauthbearer_without_port_and_escaped_user() -> None:
    got = drive(
        {
            "mechanism": "OAUTHBEARER",
            "host": "smtp.example",
            "callback": {"user": "a,b=c@x", "pass": "t0k"},
        }
    )
    assert (
        unhex(got["start"]) == b"n,a=a=2Cb=3Dc@x,\x01host=smtp.example\x01auth=Bearer t0k\x01\x01"
    )
    assert base64.b64encode(unhex(got["start"])).decode() == sasl.oauthbearer(
        "a,b=c@x", "t0k", "smtp.example"
    )


def test_oauthbearer_without_host() -> None:
    got = drive(
        {"mechanism": "OAUTHBEARER", "host": "", "callback": {"user": "u@x", "pass": "t0k"}}
    )
    assert unhex(got["start"]) == b"n,a=u@x,\x01auth=Bearer t0k\x01\x01"


def test_oauthbearer_error_challenge_gets_kvsep() -> None:
    got = drive(
        {
            "mechanism": "OAUTHBEARER",
            "host": "h",
            "callback": {"user": "u@x", "pass": "t"},
            "challenge": '{"status":"invalid_token"}',
        }
    )
    assert unhex(got["step"]) == b"\x01"
    assert (
        got["step_error"] == 'OAUTHBEARER token rejected by the server: {"status":"invalid_token"}'
    )


def test_character_string_user_is_sent_as_utf8() -> None:
    got = drive(
        {
            "mechanism": "XOAUTH2",
            "host": "h",
            "callback": {"wide_user": "jürgen@例え.jp", "pass": "t"},
        }
    )
    assert unhex(got["start"]) == "user=jürgen@例え.jp\x01auth=Bearer t\x01\x01".encode()


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
@pytest.mark.parametrize(
    "callback",
    [
        {"user": "u@x"},
        {"user": "u@x", "pass": ""},
        {"user": "u@x", "pass": "a\x01b"},
        {"pass": "t"},
    ],
)
def test_missing_or_unframeable_values_are_an_error(
    mechanism: str, callback: dict[str, str]
) -> None:
    got = drive({"mechanism": mechanism, "host": "h", "callback": callback})
    assert got["start"] is None
    assert isinstance(got["error"], str) and mechanism in got["error"]


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        ("XOAUTH2", "XOAUTH2"),
        ("OAUTHBEARER", "OAUTHBEARER"),
        ("XOAUTH2 OAUTHBEARER", "XOAUTH2"),
        ("OAUTHBEARER XOAUTH2", "OAUTHBEARER"),
        # A server's full list, as Net::SMTP passes it without --smtp-auth: a password login
        # keeps LOGIN/PLAIN; the token mechanisms never take over.
        ("LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH", "LOGIN"),
        ("XOAUTH2 OAUTHBEARER PLAIN", "PLAIN"),
    ],
)
def test_client_new_picks(requested: str, chosen: str) -> None:
    got = drive({"mechanism": requested, "host": "h", "callback": {"user": "u@x", "pass": "t"}})
    assert got["mechanism"] == chosen


def test_secflags_noanonymous_still_picks_them() -> None:
    got = drive(
        {
            "mechanism": "XOAUTH2",
            "host": "h",
            "secflags": "noanonymous",
            "callback": {"user": "u@x", "pass": "t"},
        }
    )
    assert got["mechanism"] == "XOAUTH2"


def test_stock_authen_sasl_lacks_them() -> None:
    """Why contrib/perl exists: without it, Debian 12's Authen::SASL finds no mechanism."""
    version = subprocess.run(
        ["perl", "-MAuthen::SASL", "-e", "print $Authen::SASL::VERSION"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    got = drive(
        {"mechanism": "XOAUTH2", "host": "h", "callback": {"user": "u@x", "pass": "t"}}, lib=None
    )
    if float(version) >= 2.18:
        pytest.skip(f"Authen::SASL {version} has XOAUTH2 of its own")
    assert "No SASL mechanism found" in str(got.get("died"))


@pytest.mark.parametrize("module", ["XOAUTH2", "OAUTHBEARER"])
def test_modules_compile_cleanly_with_warnings(module: str) -> None:
    path = PERL_LIB / "Authen" / "SASL" / "Perl" / f"{module}.pm"
    done = subprocess.run(
        ["perl", "-Mstrict", "-w", "-c", str(path)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"{path} syntax OK"

# XOAUTH2 client mechanism for Authen::SASL::Perl, shipped with oauth-helper.
#
# Authen::SASL before 2.1800 (Debian 12, Ubuntu 22.04 and 24.04) has no XOAUTH2, so
# `git send-email --smtp-auth=XOAUTH2` dies with "No SASL mechanism found". Put the
# directory that holds Authen/ on PERL5LIB (or copy this file next to the stock
# mechanisms) and it works. See contrib/perl/README.md.
#
# The "pass" callback is the OAuth2 access token; git send-email hands it over from the
# credential helper `git-credential-oauth-helper`.
#
# SPDX-License-Identifier: MIT

package Authen::SASL::Perl::XOAUTH2;

use strict;
use warnings;

use Authen::SASL::Perl ();

our $VERSION = '1.0';
our @ISA     = qw(Authen::SASL::Perl);

# A bearer token is neither anonymous nor a password that can be guessed, but it travels
# in the clear inside the TLS session just as PLAIN does: claim no more than PLAIN does.
my %secflags = (noanonymous => 1);

# Order 0 (below PLAIN and LOGIN): when a caller lets the server's list decide, a
# password login keeps using PLAIN/LOGIN. XOAUTH2 is used when it is asked for by name,
# or when it is the only mechanism left.
sub _order { 0 }

sub _secflags {
  shift;
  return scalar grep { $secflags{$_} } @_;
}

sub mechanism { 'XOAUTH2' }

# A value that would break the \x01-separated framing (or is not there at all).
sub _bad_value {
  my ($value) = @_;
  return 1 unless defined $value and length $value;
  return $value =~ /[\x00-\x1f\x7f]/ ? 1 : 0;
}

sub _octets {
  my ($value) = @_;
  utf8::encode($value) if utf8::is_utf8($value);
  return $value;
}

sub client_start {
  my $self = shift;

  $self->{error}     = undef;
  $self->{need_step} = 0;
  $self->{failed}    = 0;

  my $user  = $self->_call('user');
  my $token = $self->_call('pass');

  return $self->set_error('XOAUTH2 needs a user name (the "user" callback)')
    if _bad_value($user);
  return $self->set_error('XOAUTH2 needs an access token (the "pass" callback) without control characters')
    if _bad_value($token);

  return 'user=' . _octets($user) . "\x01auth=Bearer " . _octets($token) . "\x01\x01";
}

# The server sends a challenge only to report a failure: a JSON document such as
# {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}. The client must
# answer with an empty response; the server then ends the exchange with its error reply.
sub client_step {
  my ($self, $challenge) = @_;

  $self->{failed} = 1;
  my $detail = defined $challenge ? $challenge : '';
  $detail =~ s/[^\x20-\x7e]+/ /g;
  $self->set_error('XOAUTH2 token rejected by the server' . (length $detail ? ": $detail" : ''));
  return '';
}

1;

__END__

=head1 NAME

Authen::SASL::Perl::XOAUTH2 - XOAUTH2 client mechanism (Gmail, Microsoft 365)

=head1 SYNOPSIS

  use Authen::SASL qw(Perl);

  my $sasl = Authen::SASL->new(
    mechanism => 'XOAUTH2',
    callback  => { user => 'alice@gmail.com', pass => $access_token },
  );
  my $client = $sasl->client_new('smtp', 'smtp.gmail.com');
  my $initial = $client->client_start;   # "user=...\x01auth=Bearer ...\x01\x01"

=head1 DESCRIPTION

The initial client response is C<user=USER ^A auth=Bearer TOKEN ^A ^A>. A challenge from
the server means the token was refused: C<client_step> answers it with an empty response,
as the providers require, and records the server's JSON in C<error>.

Client side only.

=cut

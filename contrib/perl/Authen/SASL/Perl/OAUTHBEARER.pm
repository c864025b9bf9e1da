# OAUTHBEARER (RFC 7628) client mechanism for Authen::SASL::Perl, shipped with oauth-helper.
#
# Authen::SASL before 2.1800 (Debian 12, Ubuntu 22.04 and 24.04) has no OAUTHBEARER, so
# `git send-email --smtp-auth=OAUTHBEARER` dies with "No SASL mechanism found". Put the
# directory that holds Authen/ on PERL5LIB (or copy this file next to the stock
# mechanisms) and it works. See contrib/perl/README.md.
#
# The "pass" callback is the OAuth2 access token; git send-email hands it over from the
# credential helper `git-credential-oauth-helper`.
#
# SPDX-License-Identifier: MIT

package Authen::SASL::Perl::OAUTHBEARER;

use strict;
use warnings;

use Authen::SASL::Perl ();

our $VERSION = '1.0';
our @ISA     = qw(Authen::SASL::Perl);

# See XOAUTH2.pm: claim what PLAIN claims, no more.
my %secflags = (noanonymous => 1);

# Order 0 (below PLAIN and LOGIN): used when asked for by name, or when it is the only
# mechanism left; a password login that lets the server's list decide keeps PLAIN/LOGIN.
sub _order { 0 }

sub _secflags {
  shift;
  return scalar grep { $secflags{$_} } @_;
}

sub mechanism { 'OAUTHBEARER' }

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

# RFC 5801 saslname: "=" and "," cannot appear literally in the GS2 header.
sub _saslname {
  my ($value) = @_;
  $value =~ s/=/=3D/g;
  $value =~ s/,/=2C/g;
  return $value;
}

sub client_start {
  my $self = shift;

  $self->{error}     = undef;
  $self->{need_step} = 0;
  $self->{failed}    = 0;

  my $user  = $self->_call('user');
  my $token = $self->_call('pass');

  return $self->set_error('OAUTHBEARER needs a user name (the "user" callback)')
    if _bad_value($user);
  return $self->set_error('OAUTHBEARER needs an access token (the "pass" callback) without control characters')
    if _bad_value($token);

  # host and port are optional (RFC 7628 section 3.1). The host is the one given to
  # client_new (Net::SMTP passes the server name), unless a "host" callback overrides it;
  # the port is sent only when a "port" callback supplies one.
  my $host = defined $self->callback('host') ? $self->_call('host') : $self->host;
  my $port = defined $self->callback('port') ? $self->_call('port') : undef;

  my @kv;
  push @kv, 'host=' . _octets($host) if defined $host and length $host and !_bad_value($host);
  push @kv, "port=$port" if defined $port and $port =~ /\A[0-9]{1,5}\z/;
  push @kv, 'auth=Bearer ' . _octets($token);

  return 'n,a=' . _saslname(_octets($user)) . ",\x01" . join("\x01", @kv) . "\x01\x01";
}

# The server sends a challenge only to report a failure (RFC 7628 section 3.2.2): a JSON
# document with "status", "scope" and maybe "openid-configuration". The client answers
# with a single %x01 (section 3.2.3) and the server ends the exchange with its error reply.
sub client_step {
  my ($self, $challenge) = @_;

  $self->{failed} = 1;
  my $detail = defined $challenge ? $challenge : '';
  $detail =~ s/[^\x20-\x7e]+/ /g;
  $self->set_error('OAUTHBEARER token rejected by the server' . (length $detail ? ": $detail" : ''));
  return "\x01";
}

1;

__END__

=head1 NAME

Authen::SASL::Perl::OAUTHBEARER - OAUTHBEARER (RFC 7628) client mechanism

=head1 SYNOPSIS

  use Authen::SASL qw(Perl);

  my $sasl = Authen::SASL->new(
    mechanism => 'OAUTHBEARER',
    callback  => { user => 'bob@contoso.com', pass => $access_token, port => 587 },
  );
  my $client = $sasl->client_new('smtp', 'smtp.office365.com');
  my $initial = $client->client_start;
  # "n,a=bob@contoso.com,\x01host=smtp.office365.com\x01port=587\x01auth=Bearer ...\x01\x01"

=head1 DESCRIPTION

The initial client response is the GS2 header C<n,a=USER,> (C<=> and C<,> in the user
escaped as C<=3D> and C<=2C>) followed by C<host=>, C<port=> (each only when known) and
C<auth=Bearer TOKEN>, separated and ended by C<^A>, with a final C<^A>. A challenge from
the server means the token was refused: C<client_step> answers it with C<^A> as RFC 7628
section 3.2.3 requires, and records the server's JSON in C<error>.

Client side only.

=cut

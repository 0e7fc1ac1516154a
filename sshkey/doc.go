// Package sshkey reads the SSH public keys that clients send for SFTP
// statement delivery (SPEC §7) and decides whether they are acceptable.
//
// Clients follow the knowledge-base article: they run puttygen, export the
// public part and mail it to the Reporting Integration Team. In practice the
// operator receives whatever the client's tool wrote: an OpenSSH line
// (puttygen -L, ssh-keygen), an RFC 4716 "SSH2 PUBLIC KEY" block
// (puttygen -p, ssh-keygen -e), a PEM public key (PKIX or PKCS#1, from
// openssl or ssh-keygen -e -m PKCS8/PEM) or, by mistake, the PuTTY private
// key file itself. ParsePublicKey detects the format, extracts the public key
// and applies one acceptance policy, so that every form of the same key yields
// the same fingerprint and every refusal carries a message an operator can
// pass on to the client.
//
// ParsePPK reads PuTTY .ppk files (versions 2 and 3, unencrypted or
// aes256-cbc). The public part is available without the passphrase; the
// private part is decrypted and authenticated only on request.
package sshkey

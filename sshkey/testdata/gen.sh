#!/bin/sh
# Regenerates the checked-in key files, which serve the quick tests and the
# fuzz seed corpora without needing puttygen at test time. Run it from this
# directory with puttygen >= 0.75 and ssh-keygen on PATH. The passphrase of
# every encrypted file is in passphrase.txt. Encrypted version 3 files use a
# tiny Argon2 cost (64 KiB, 1 pass) so that fuzzing can afford to decrypt
# them; ed25519-v3-argon2id-default.ppk keeps puttygen's default cost.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pw=passphrase.txt
printf '%s' 'correct horse battery staple' >"$pw"
: >"$tmp/empty"
cheap=memory=64,passes=1

# conv SRC DST-ARGS...: re-save SRC (encrypted with $pw) in another form.
conv() { src=$1; shift; puttygen -q "$src" --old-passphrase "$pw" "$@"; }
# --reencrypt: puttygen otherwise refuses a private-to-private conversion as "no useful action".
save() { src=$1; shift; conv "$src" -O private --reencrypt "$@"; }

puttygen -q -t rsa -b 2048 -C 'rsa2048 test key' -o rsa2048-v3-argon2id.ppk --new-passphrase "$pw" --ppk-param kdf=argon2id,$cheap
save rsa2048-v3-argon2id.ppk -o rsa2048-v2-aes.ppk --new-passphrase "$pw" --ppk-param version=2
save rsa2048-v3-argon2id.ppk -o rsa2048-v3-none.ppk --new-passphrase "$tmp/empty"
conv rsa2048-v3-argon2id.ppk -L -o rsa2048.pub
conv rsa2048-v3-argon2id.ppk -p -o rsa2048.rfc4716
conv rsa2048-v3-argon2id.ppk -O private-openssh-new -o "$tmp/rsa" --new-passphrase "$tmp/empty"
ssh-keygen -e -m PEM -f "$tmp/rsa" >rsa2048.pkcs1.pem
ssh-keygen -e -m PKCS8 -f "$tmp/rsa" >rsa2048.pkix.pem
ssh-keygen -e -f "$tmp/rsa" >rsa2048.ssh-keygen.rfc4716

puttygen -q -t ed25519 -C 'ed25519 test key' -o ed25519-v3-argon2d.ppk --new-passphrase "$pw" --ppk-param kdf=argon2d,$cheap
save ed25519-v3-argon2d.ppk -o ed25519-v2-none.ppk --new-passphrase "$tmp/empty" --ppk-param version=2
save ed25519-v3-argon2d.ppk -o ed25519-v3-argon2id-default.ppk --new-passphrase "$pw"
conv ed25519-v3-argon2d.ppk -L -o ed25519.pub
conv ed25519-v3-argon2d.ppk -p -o ed25519.rfc4716

puttygen -q -t ecdsa -b 256 -C 'ecdsa256 test key' -o ecdsa256-v3-argon2i.ppk --new-passphrase "$pw" --ppk-param kdf=argon2i,$cheap
conv ecdsa256-v3-argon2i.ppk -L -o ecdsa256.pub
conv ecdsa256-v3-argon2i.ppk -O private-openssh-new -o "$tmp/ec256" --new-passphrase "$tmp/empty"
ssh-keygen -e -m PKCS8 -f "$tmp/ec256" >ecdsa256.pkix.pem

puttygen -q -t ecdsa -b 384 -C 'ecdsa384 test key' -o ecdsa384-v2-aes.ppk --new-passphrase "$pw" --ppk-param version=2
conv ecdsa384-v2-aes.ppk -L -o ecdsa384.pub
conv ecdsa384-v2-aes.ppk -p -o ecdsa384.rfc4716

puttygen -q -t ecdsa -b 521 -C 'ecdsa521 test key' -o ecdsa521-v3-none.ppk --new-passphrase "$tmp/empty"
puttygen -q ecdsa521-v3-none.ppk -L -o ecdsa521.pub

# Keys that must be refused.
puttygen -q -t rsa -b 1024 -C 'rsa1024 test key' -o rsa1024-v3-none.ppk --new-passphrase "$tmp/empty" 2>/dev/null
puttygen -q rsa1024-v3-none.ppk -L -o rsa1024.pub
puttygen -q -t dsa -b 1024 -C 'dsa test key' -o dsa-v3-none.ppk --new-passphrase "$tmp/empty" 2>/dev/null
puttygen -q dsa-v3-none.ppk -L -o dsa.pub

# Reference fingerprints, computed by ssh-keygen rather than by this package.
for f in *.pub; do
	printf '%s %s\n' "${f%.pub}" "$(ssh-keygen -l -E sha256 -f "$f" | cut -d' ' -f2)"
done >fingerprints.txt

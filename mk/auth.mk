# mk/auth.mk: the authentication module (src/auth/), included by the Makefile.
#
# API tokens (random bytes, SHA-256) and JWT verification (HMAC, RSA and
# ECDSA signatures) use OpenSSL 3's EVP interface: Debian's libssl-dev
# (scripts/install-deps.sh build installs it).

PKGS += openssl

//go:build !amd64 || !gc || purego

package argon2id

// haveCompress is false: Key gives every computation to x/crypto/argon2.
const haveCompress = false

func compress(out, x, y *block, xor bool) {
	panic("argon2id: no compression function on this platform")
}

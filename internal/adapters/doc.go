// Package adapters resolves the LoRAs and embeddings a prompt uses the way
// A1111 does, for every front end alike (the gen CLI, gen serve, gen
// worker): <lora:NAME:…> tags name files in a LoRA folder, embeddings are
// the files of an embedding folder, and the PNG parameters record both as
// "Lora hashes" and "TI hashes".
package adapters

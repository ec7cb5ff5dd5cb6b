// Package infotext is the generation settings a PNG carries, as the
// AUTOMATIC1111 web UI writes them: the "parameters" text (infotext), its
// field names (A1111's and ours, such as FieldMask), and the PNG text
// chunks that hold it. gen writes it and reads it back (--from, inspect);
// the server writes the same bytes and answers /sdapi/v1/png-info with it.
// It is the last step of the data flow, after package sdxl's pixels.
package infotext

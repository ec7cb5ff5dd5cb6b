// Package natsqueue scales `gen serve` out over NATS JetStream: the HTTP
// front end (Client, a server.Runner) publishes each job to a work-queue
// stream, and any number of `gen worker` processes (Worker), one per GPU,
// pull jobs for their model, run them, and send the result back.
//
// Delivery rules, all JetStream's own:
//   - jobs live in the file-backed work-queue stream GOSDXL_JOBS on subject
//     gosdxl.jobs.<model>, so they survive a NATS restart and are routed to
//     workers that have that model (one durable pull consumer per model);
//   - a worker acks a job explicitly, only after its result is stored, and
//     sends in-progress acks while it works, so a worker that dies stops
//     extending the ack wait and the job is redelivered to another;
//   - after MaxDeliver deliveries the job is dead-lettered, with the error,
//     on gosdxl.dead.<model> (stream GOSDXL_DEAD) and the client answered;
//   - results go to the stream GOSDXL_RESULTS, images to the object store
//     gosdxl-images (results outlive a front end's reconnect; images may be
//     larger than a NATS message);
//   - progress, skip, interrupt and cancel are plain NATS messages: losing
//     one costs a progress update, nothing more;
//   - workers advertise themselves (model, hash, device) in the key-value
//     bucket gosdxl-workers, refreshed while they live.
package natsqueue

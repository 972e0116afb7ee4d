// A Wekinator client in node.js, with the calls of the wekinator-node library (connect,
// trainOnData, startRunning, inputs), written on node's own dgram (no npm package): it
// trains a classifier from examples in no particular order (trainOnData: startRecording,
// then outputs and inputs for each example, stopRecording, train), runs it on poses shown
// in turn, and prints what came back as JSON.
//     node train_on_data.js WEKINATOR_PORT MY_PORT
"use strict";
const dgram = require("dgram");

function pad(buf) {
  const n = 4 - (buf.length % 4);
  return Buffer.concat([buf, Buffer.alloc(n)]);
}

function message(address, floats) {
  const args = Buffer.alloc(4 * floats.length);
  floats.forEach((v, i) => args.writeFloatBE(v, 4 * i));
  return Buffer.concat([pad(Buffer.from(address)), pad(Buffer.from("," + "f".repeat(floats.length))), args]);
}

function parse(buf) {
  const end = buf.indexOf(0);
  const address = buf.toString("ascii", 0, end);
  let at = (end + 4) & ~3;
  const tagsEnd = buf.indexOf(0, at);
  const tags = buf.toString("ascii", at + 1, tagsEnd);
  at = (tagsEnd + 4) & ~3;
  const values = [];
  for (const t of tags) {
    if (t === "f") { values.push(buf.readFloatBE(at)); at += 4; }
  }
  return { address, values };
}

class Wekinator {
  constructor(port, localPort) {
    this.port = port;
    this.sock = dgram.createSocket("udp4");
    this.sock.bind(localPort, "127.0.0.1");
    this.control = "/wekinator/control";
  }
  send(address, floats = []) { this.sock.send(message(address, floats), this.port, "127.0.0.1"); }
  inputs(floats) { this.send("/wek/inputs", floats); }
  outputs(floats) { this.send(this.control + "/outputs", floats); }
  startRecording() { this.send(this.control + "/startRecording"); }
  stopRecording() { this.send(this.control + "/stopRecording"); }
  train() { this.send(this.control + "/train"); }
  startRunning() { this.send(this.control + "/startRunning"); }
  trainOnData(data) {  // as wekinator-node: one recording, the outputs set before each input
    this.startRecording();
    for (const d of data) { this.outputs(d.outputs); this.inputs(d.inputs); }
    this.stopRecording();
    this.train();
  }
}

const [port, localPort] = process.argv.slice(2).map(Number);
const poses = [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]];
let seed = 7;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const near = (p) => p.map((v) => v + 0.04 * (rand() - 0.5));
const wek = new Wekinator(port, localPort);
const got = [];
let trained = false;
wek.sock.on("message", (buf) => {
  const m = parse(buf);
  if (m.address === "/wekinator/status/done-training") trained = true;
  else got.push(m);
});
wek.sock.on("listening", () => {
  const data = [];
  for (let i = 0; i < 60; i++) {
    const c = 1 + Math.floor(rand() * 3);
    data.push({ inputs: near(poses[c - 1]), outputs: [c] });
  }
  wek.trainOnData(data);
  const order = [1, 2, 3, 2, 1, 3, 1, 2, 3, 3, 1, 2];
  const deadline = Date.now() + 120000;
  const wait = setInterval(() => {
    if (!trained && Date.now() < deadline) return;
    clearInterval(wait);
    wek.startRunning();
    const shown = [];
    order.forEach((c) => { for (let k = 0; k < 20; k++) shown.push(c); });
    let i = 0;
    const tick = setInterval(() => {
      if (i < shown.length) { wek.inputs(near(poses[shown[i] - 1])); i++; return; }
      clearInterval(tick);
      setTimeout(() => {
        console.log(JSON.stringify({ trained, shown, got }));
        wek.sock.close();
      }, 1000);
    }, 10);
  }, 20);
});

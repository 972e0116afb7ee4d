// A Wekinator output client in ChucK: a drum machine whose layers follow one classifier
// output (classes 1 to 4) on /wek/outputs. Here it plays nothing (chuck --silent): it prints
// each class it would switch its layers to, one line a message.
//     chuck --silent drum_machine.ck:PORT
OscIn oin;
Std.atoi(me.arg(0)) => oin.port;
oin.addAddress("/wek/outputs, f");
OscMsg msg;

fun void layersUpTo(int c) {
    // the layers a class turns on: kick always, then hi-hat, melody, snare
    chout <= "class " <= c <= IO.newline();
    chout.flush();
}

chout <= "ready" <= IO.newline();
chout.flush();
while (true) {
    oin => now;
    while (oin.recv(msg)) {
        layersUpTo(msg.getFloat(0) $ int);
    }
}

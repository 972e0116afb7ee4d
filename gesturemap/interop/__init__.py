"""Other tools' files: Wekinator projects, examples (ARFF) and models
(:mod:`gesturemap.interop.wekinator`), XMM training sets and models
(:mod:`gesturemap.interop.xmm`)."""

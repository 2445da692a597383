"""Speech to text: the protocol, audio decoding, faster-whisper in-process, a transcription server, one worker."""

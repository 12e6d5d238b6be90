#!/usr/bin/python3
"""rtsp_camera.py ADDRESS PORT — an IP camera's RTSP server: GStreamer's RTSP server (Debian
gir1.2-gst-rtsp-server-1.0) serving a small live MJPEG test picture at /stream, over RTP/UDP or
interleaved in the RTSP connection, whichever the client asks for. Run with Debian's /usr/bin/python3
(python3-gi)."""
import sys, gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address(sys.argv[1]); server.set_service(sys.argv[2])
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch("( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=160,height=120,framerate=5/1 ! jpegenc quality=30 ! rtpjpegpay name=pay0 pt=26 )")
factory.set_shared(True)
server.get_mount_points().add_factory("/stream", factory)
server.attach(None)
print("rtsp ready", flush=True)
GLib.MainLoop().run()

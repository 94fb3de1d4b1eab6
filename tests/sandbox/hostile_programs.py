"""Hostile programs, one per behaviour and language. Each reads its parameters from stdin.

net:      stdin = a TCP port the host listens on (127.0.0.1); prints one line per probe.
secrets:  stdin = the host test process's pid; prints what it could read, or "denied".
"""

C_LIKE = {
    "loop": "int main(void){volatile unsigned long x=0;for(;;)x++;}",
    "fork": "#include <unistd.h>\nint main(void){for(;;)fork();}",
    "memory": "#include <stdlib.h>\n#include <string.h>\n"
    "int main(void){for(;;){char*p=(char*)malloc(1<<24);if(!p)return 3;memset(p,1,1<<24);}}",
    "net": r"""#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
static void probe(const char*ip,int port){int s=socket(AF_INET,SOCK_STREAM,0);struct sockaddr_in a;
memset(&a,0,sizeof a);a.sin_family=AF_INET;a.sin_port=htons(port);inet_pton(AF_INET,ip,&a.sin_addr);
puts(connect(s,(struct sockaddr*)&a,sizeof a)==0?"connected":"blocked");close(s);}
int main(void){int port;if(scanf("%d",&port)!=1)return 2;probe("192.0.2.1",80);probe("127.0.0.1",port);return 0;}""",
    "secrets": r"""#include <stdio.h>
#include <dirent.h>
static void dump(const char*p){FILE*f=fopen(p,"rb");if(!f){printf("%s denied\n",p);return;}
char b[8192];size_t n=fread(b,1,sizeof b,f);printf("%s ",p);fwrite(b,1,n,stdout);puts("");fclose(f);}
int main(void){char pid[32],path[64];if(scanf("%31s",pid)!=1)return 2;
snprintf(path,sizeof path,"/proc/%s/environ",pid);dump("/etc/shadow");dump(path);dump("/proc/1/environ");
dump("/proc/self/environ");DIR*d=opendir("/root");puts(d?"/root listed":"/root denied");return 0;}""",
    "write": r"""#include <stdio.h>
int main(void){const char*ps[]={"/usr/oorl_probe","/etc/oorl_probe","/oorl_probe","/box/oorl_probe"};
for(int i=0;i<4;i++){FILE*f=fopen(ps[i],"w");printf("%s %s\n",ps[i],f?"written":"denied");if(f)fclose(f);}return 0;}""",
    "daemon": "#include <stdio.h>\n#include <unistd.h>\n"
    'int main(void){if(fork()==0){setsid();if(fork()==0){sleep(60);return 0;}return 0;}puts("parent done");return 0;}',
    "flood": "#include <stdio.h>\n#include <string.h>\n"
    "int main(void){static char b[1<<20];memset(b,'x',sizeof b);for(int i=0;i<100;i++)fwrite(b,1,sizeof b,stdout);"
    "return 0;}",
    "disk": r"""#include <stdio.h>
#include <string.h>
int main(void){static char b[1<<20];memset(b,'x',sizeof b);long total=0;char name[64];
for(int n=0;;n++){snprintf(name,sizeof name,"/tmp/f%d",n);FILE*f=fopen(name,"wb");if(!f)break;int ok=1;
for(int i=0;i<8;i++){size_t w=fwrite(b,1,sizeof b,f);total+=(long)w;if(w<sizeof b){ok=0;break;}}
if(fclose(f)!=0||!ok)break;}printf("%ld\n",total>>20);return 0;}""",
    "signal": "#include <stdio.h>\n#include <signal.h>\n#include <unistd.h>\n"
    'int main(void){kill(getppid(),SIGKILL);kill(-1,SIGKILL);puts("still here");return 0;}',
    "files": "#include <stdio.h>\n#include <fcntl.h>\n"
    'int main(void){int n=0;for(int i=0;i<10000;i++){if(open("/dev/null",O_RDONLY)<0)break;n++;}printf("%d\\n",n);'
    "return 0;}",
}

PYTHON = {
    "loop": "while True:\n    pass",
    "fork": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "memory": "x = []\nwhile True:\n    x.append(b'x' * 10**7)",
    "net": """import socket, sys
port = int(sys.stdin.read())
for host, p in (("192.0.2.1", 80), ("127.0.0.1", port)):
    try:
        socket.create_connection((host, p), timeout=1)
        print("connected")
    except OSError:
        print("blocked")""",
    "secrets": """import os, sys
pid = sys.stdin.read().strip()
for path in ("/etc/shadow", f"/proc/{pid}/environ", "/proc/1/environ", "/proc/self/environ"):
    try:
        print(path, open(path, "rb").read())
    except OSError:
        print(path, "denied")
try:
    print("/root listed", os.listdir("/root"))
except OSError:
    print("/root denied")""",
    "write": """for path in ("/usr/oorl_probe", "/etc/oorl_probe", "/oorl_probe", "/box/oorl_probe"):
    try:
        open(path, "w").write("x")
        print(path, "written")
    except OSError:
        print(path, "denied")""",
    "daemon": """import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
    os._exit(0)
print("parent done")""",
    "flood": "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 2**20)",
    "disk": """total = 0
try:
    for n in range(10**6):
        with open(f"/tmp/f{n}", "wb") as f:
            for _ in range(8):
                f.write(b"x" * 2**20)
                f.flush()
                total += 2**20
except OSError:
    pass
print(total >> 20)""",
    "signal": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ntry:\n    os.kill(-1, signal.SIGKILL)\n"
    "except OSError:\n    pass\nprint('still here')",
    "files": "fs = []\ntry:\n    for _ in range(10000):\n        fs.append(open('/dev/null'))\nexcept OSError:\n"
    "    pass\nprint(len(fs))",
}

JAVA = {
    "loop": "public class Main{public static void main(String[] a){long x=0;while(true){x++;}}}",
    "fork": 'public class Main{public static void main(String[] a){while(true){try{new ProcessBuilder("/bin/sleep",'
    '"60").start();}catch(Exception e){}}}}',
    "memory": "import java.util.*;\npublic class Main{public static void main(String[] a){List<long[]> l=new ArrayList<>();"
    "while(true)l.add(new long[1<<20]);}}",
    "net": """import java.net.*;import java.util.*;
public class Main{static void probe(String h,int p){try(Socket s=new Socket()){s.connect(new InetSocketAddress(h,p),1000);
System.out.println("connected");}catch(Exception e){System.out.println("blocked");}}
public static void main(String[] a){int port=new Scanner(System.in).nextInt();probe("192.0.2.1",80);probe("127.0.0.1",port);}}""",
    "secrets": """import java.nio.file.*;import java.util.*;
public class Main{static void dump(String p){try{System.out.println(p+" "+new String(Files.readAllBytes(Paths.get(p))));}
catch(Exception e){System.out.println(p+" denied");}}
public static void main(String[] a){String pid=new Scanner(System.in).next();dump("/etc/shadow");
dump("/proc/"+pid+"/environ");dump("/proc/1/environ");dump("/proc/self/environ");
try{Files.list(Paths.get("/root")).count();System.out.println("/root listed");}
catch(Exception e){System.out.println("/root denied");}}}""",
    "write": """import java.nio.file.*;
public class Main{public static void main(String[] a){for(String p:new String[]{"/usr/oorl_probe","/etc/oorl_probe",
"/oorl_probe","/box/oorl_probe"}){try{Files.write(Paths.get(p),"x".getBytes());System.out.println(p+" written");}
catch(Exception e){System.out.println(p+" denied");}}}}""",
    "daemon": 'public class Main{public static void main(String[] a)throws Exception{new ProcessBuilder("/bin/sh",'
    '"-c","setsid sleep 60 > /dev/null 2>&1 < /dev/null &").start().waitFor();System.out.println("parent done");}}',
    "flood": "public class Main{public static void main(String[] a)throws Exception{byte[] b=new byte[1<<20];"
    "java.util.Arrays.fill(b,(byte)'x');java.io.OutputStream o=new java.io.FileOutputStream(java.io.FileDescriptor.out);"
    "for(int i=0;i<100;i++)o.write(b);}}",
    "disk": """import java.io.*;
public class Main{public static void main(String[] a){byte[] b=new byte[1<<20];long total=0;
try{for(int n=0;;n++){try(FileOutputStream f=new FileOutputStream("/tmp/f"+n)){for(int i=0;i<8;i++){f.write(b);
total+=b.length;}}}}catch(IOException e){}System.out.println(total>>20);}}""",
    "signal": "public class Main{public static void main(String[] a)throws Exception{ProcessHandle.current().parent()"
    '.ifPresent(p->p.destroyForcibly());new ProcessBuilder("/bin/kill","-9","-1").start().waitFor();'
    'System.out.println("still here");}}',
    "files": "import java.io.*;import java.util.*;\npublic class Main{public static void main(String[] a){"
    'List<FileInputStream> l=new ArrayList<>();try{for(int i=0;i<10000;i++)l.add(new FileInputStream("/dev/null"));}'
    "catch(IOException e){}System.out.println(l.size());}}",
}

JAVASCRIPT = {
    "loop": "while (true) {}",
    "fork": "const {spawn} = require('child_process');\n"
    "for (;;) { try { spawn('/bin/sleep', ['60'], {detached: true}).on('error', () => {}); } catch (e) {} }",
    "memory": "const a = [];\nfor (;;) a.push(Buffer.alloc(1 << 24, 1));",
    "net": """const net = require('net');
const port = +require('fs').readFileSync(0, 'utf8');
function probe(host, p) {
  return new Promise(r => {
    const s = net.connect({host, port: p});
    s.setTimeout(1000);
    s.on('connect', () => { s.destroy(); r('connected'); });
    s.on('error', () => r('blocked'));
    s.on('timeout', () => { s.destroy(); r('blocked'); });
  });
}
(async () => { console.log(await probe('192.0.2.1', 80)); console.log(await probe('127.0.0.1', port)); })();""",
    "secrets": """const fs = require('fs');
const pid = fs.readFileSync(0, 'utf8').trim();
for (const p of ['/etc/shadow', `/proc/${pid}/environ`, '/proc/1/environ', '/proc/self/environ']) {
  try { console.log(p, fs.readFileSync(p, 'latin1')); } catch (e) { console.log(p, 'denied'); }
}
try { fs.readdirSync('/root'); console.log('/root listed'); } catch (e) { console.log('/root denied'); }""",
    "write": """const fs = require('fs');
for (const p of ['/usr/oorl_probe', '/etc/oorl_probe', '/oorl_probe', '/box/oorl_probe']) {
  try { fs.writeFileSync(p, 'x'); console.log(p, 'written'); } catch (e) { console.log(p, 'denied'); }
}""",
    "daemon": "const {spawn} = require('child_process');\n"
    "spawn('/bin/sleep', ['60'], {detached: true, stdio: 'ignore'}).unref();\nconsole.log('parent done');",
    "flood": "const b = Buffer.alloc(1 << 20, 120);\nfor (let i = 0; i < 100; i++) process.stdout.write(b);",
    "disk": """const fs = require('fs');
const b = Buffer.alloc(1 << 20, 120);
let total = 0;
try {
  for (let n = 0; ; n++) {
    const fd = fs.openSync('/tmp/f' + n, 'w');
    for (let i = 0; i < 8; i++) { fs.writeSync(fd, b); total += b.length; }
    fs.closeSync(fd);
  }
} catch (e) {}
console.log(total >> 20);""",
    "signal": "try { process.kill(process.ppid, 'SIGKILL'); } catch (e) {}\n"
    "try { process.kill(-1, 'SIGKILL'); } catch (e) {}\nconsole.log('still here');",
    "files": "const fs = require('fs');\nlet n = 0;\n"
    "try { for (let i = 0; i < 10000; i++) { fs.openSync('/dev/null', 'r'); n++; } } catch (e) {}\nconsole.log(n);",
}

GO = {
    "loop": "package main\nfunc main() {\n\tx := 0\n\tfor {\n\t\tx++\n\t}\n}",
    "fork": 'package main\nimport "os/exec"\nfunc main() {\n\tfor {\n\t\texec.Command("/bin/sleep", "60").Start()\n\t}\n}',
    "memory": "package main\nfunc main() {\n\tvar l [][]byte\n\tfor {\n\t\tb := make([]byte, 1<<24)\n"
    "\t\tfor i := range b {\n\t\t\tb[i] = 1\n\t\t}\n\t\tl = append(l, b)\n\t}\n}",
    "net": """package main
import ("fmt"; "net"; "time")
func probe(addr string) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil { fmt.Println("blocked"); return }
	c.Close(); fmt.Println("connected")
}
func main() { var port int; fmt.Scan(&port); probe("192.0.2.1:80"); probe(fmt.Sprintf("127.0.0.1:%d", port)) }""",
    "secrets": """package main
import ("fmt"; "os")
func dump(p string) { b, err := os.ReadFile(p); if err != nil { fmt.Println(p, "denied"); return }; fmt.Println(p, string(b)) }
func main() {
	var pid string; fmt.Scan(&pid)
	dump("/etc/shadow"); dump("/proc/" + pid + "/environ"); dump("/proc/1/environ"); dump("/proc/self/environ")
	if _, err := os.ReadDir("/root"); err != nil { fmt.Println("/root denied") } else { fmt.Println("/root listed") }
}""",
    "write": """package main
import ("fmt"; "os")
func main() {
	for _, p := range []string{"/usr/oorl_probe", "/etc/oorl_probe", "/oorl_probe", "/box/oorl_probe"} {
		if err := os.WriteFile(p, []byte("x"), 0644); err != nil { fmt.Println(p, "denied") } else { fmt.Println(p, "written") }
	}
}""",
    "daemon": """package main
import ("fmt"; "os/exec"; "syscall")
func main() {
	c := exec.Command("/bin/sleep", "60")
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	c.Start()
	fmt.Println("parent done")
}""",
    "flood": 'package main\nimport ("bytes"; "os")\nfunc main() {\n\tb := bytes.Repeat([]byte("x"), 1<<20)\n'
    "\tfor i := 0; i < 100; i++ {\n\t\tos.Stdout.Write(b)\n\t}\n}",
    "disk": """package main
import ("fmt"; "os")
func main() {
	b := make([]byte, 1<<20); total := 0
	for n := 0; ; n++ {
		f, err := os.Create(fmt.Sprintf("/tmp/f%d", n)); if err != nil { break }
		ok := true
		for i := 0; i < 8; i++ { w, err := f.Write(b); total += w; if err != nil { ok = false; break } }
		f.Close(); if !ok { break }
	}
	fmt.Println(total >> 20)
}""",
    "signal": 'package main\nimport ("fmt"; "os"; "syscall")\nfunc main() {\n'
    '\tsyscall.Kill(os.Getppid(), syscall.SIGKILL)\n\tsyscall.Kill(-1, syscall.SIGKILL)\n\tfmt.Println("still here")\n}',
    "files": 'package main\nimport ("fmt"; "os")\nfunc main() {\n\tn := 0\n\tvar keep []*os.File\n'
    '\tfor i := 0; i < 10000; i++ {\n\t\tf, err := os.Open("/dev/null")\n\t\tif err != nil {\n\t\t\tbreak\n\t\t}\n'
    "\t\tkeep = append(keep, f)\n\t\tn++\n\t}\n\tfmt.Println(n)\n}",
}

BASH = {
    "loop": "while :; do :; done",
    "fork": ":(){ :|:& }\nwhile :; do :; done",  # the script keeps forking bombs until it is stopped
    "memory": "x=$(head -c 1000000000 /dev/zero | tr '\\0' a)\necho ${#x}",
    "net": """read port
for target in 192.0.2.1/80 127.0.0.1/$port; do
  if (exec 3<>/dev/tcp/$target) 2>/dev/null; then echo connected; else echo blocked; fi
done""",
    "secrets": """read pid
for p in /etc/shadow /proc/$pid/environ /proc/1/environ /proc/self/environ; do
  if c=$(tr '\\0' ' ' < "$p" 2>/dev/null); then echo "$p $c"; else echo "$p denied"; fi
done
if ls /root >/dev/null 2>&1; then echo "/root listed"; else echo "/root denied"; fi""",
    "write": """for p in /usr/oorl_probe /etc/oorl_probe /oorl_probe /box/oorl_probe; do
  if (echo x > "$p") 2>/dev/null; then echo "$p written"; else echo "$p denied"; fi
done""",
    "daemon": "setsid sleep 60 >/dev/null 2>&1 < /dev/null &\n( ( sleep 60 & ) & )\necho parent done",
    "flood": "head -c 104857600 /dev/zero | tr '\\0' x",
    "disk": "n=0\nwhile dd if=/dev/zero of=/tmp/f$n bs=1M count=8 2>/dev/null; do n=$((n+1)); done\n"
    "du -sm /tmp | cut -f1",
    "signal": "kill -9 $PPID\nkill -9 -1\necho still here",
    "files": 'n=0\nfor i in $(seq 10 10010); do eval "exec $i</dev/null" 2>/dev/null || break; n=$((n+1)); done\necho $n',
}

PROGRAMS: dict[str, dict[str, str]] = {
    "python": PYTHON,
    "c": C_LIKE,
    "cpp": C_LIKE,
    "java": JAVA,
    "javascript": JAVASCRIPT,
    "go": GO,
    "bash": BASH,
}

R

t1.example
t1.examplemx1.example.net 
2
192.0.2.108¢example.net¨ºrouteT

t1.example
t1.examplemx2.example.net 22001:db8::258¢example.net¨ºrouteR

t2.example
t2.examplemx1.example.net 
2
192.0.2.108¢example.net¨ºroute>

t3.example
t3.example@Jt3.example: NXDOMAIN¨ºstarttls¹mx1.example.net2
192.0.2.108Z"Ümx1.example.net ESMTP Postfixb
PIPELININGbSTARTTLSzÜúÜ‚,
proposedopensslDEFAULT:!AES256-SHA0P˜¢example.netºstarttlsÊ
ab12 <mx1.example.net2
192.0.2.108˜¢example.netº	enumerateJmx2.example.net22001:db8::258@Jconnection refused˜ºstarttlsÊ